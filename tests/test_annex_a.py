"""Annex A: requests and declared costs as events, the cost-benefit report, and refusals of bad input.

The numbers are exact: hours are decimal strings and money whole pence, so 12.5 hours and £1,250.50 over
two citations are 6.25 hours and 62,525 pence per citation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from test_reports import populate

from ledger import annex_a
from ledger.application import Ledger
from ledger.errors import BadInput
from ledger.events import decode, encode

if TYPE_CHECKING:
    from conftest import CLI


def _state(cli: CLI) -> tuple[int, int]:
    ledger = Ledger(cli.url)
    try:
        return ledger.last_position(), ledger.verify()
    finally:
        ledger.close()


def test_request_and_cost_are_recorded_as_events(team: CLI) -> None:
    done = team("annex-a", "request", "referrals", "--note", "asked on day one")
    assert done.code == 0 and done.out == "Recorded the request for Annex A item 3 (referrals).\n"
    done = team("annex-a", "cost", "3", "--hours", "12.50", "--pounds", "£1,250.50")
    assert done.out == "Recorded the cost of Annex A item 3 (referrals): 12.5 hour(s) and £1,250.50.\n"
    log: Any = team("log", "--json").json()
    kinds = [row["type"] for row in log]
    assert kinds[-2:] == ["AnnexA.ItemRequested", "AnnexA.CostDeclared"]
    declared = log[-1]
    assert (declared["item"], declared["hours"], declared["pence"], declared["actor"]) == (3, "12.5", 125050, "alice")


def test_the_events_round_trip_without_floats() -> None:
    from datetime import UTC, datetime

    from ledger.events import Role
    from ledger.inspection import inspection_id

    iid = inspection_id("barnet-2017")
    event = annex_a.CostDeclared(
        originator_id=annex_a.annex_a_id(iid), originator_version=1, timestamp=datetime(2017, 1, 9, tzinfo=UTC),
        actor="alice", role=Role.LEAD, inspection=iid, item=4, hours="7.25", pence=99,
    )
    payload = encode(event)
    assert b'"hours":"7.25"' in payload and b'"pence":99' in payload
    assert decode(annex_a.CostDeclared.TOPIC, payload) == event


@pytest.mark.parametrize(("given", "hours"), [("12", "12"), ("12.50", "12.5"), ("0", "0"), ("100", "100"),
                                               ("1,000.25", "1000.25")])
def test_hours_are_normalised_decimal_strings(given: str, hours: str) -> None:
    assert annex_a.parse_hours(given) == hours


@pytest.mark.parametrize(("given", "pence"), [(None, None), ("", None), ("1250.5", 125050), ("£3", 300),
                                               ("0.01", 1)])
def test_pounds_become_whole_pence(given: str | None, pence: int | None) -> None:
    assert annex_a.parse_pounds(given) == pence


def test_the_cost_benefit_report_weighs_cost_against_citations(reported_annex: CLI) -> None:
    cli = reported_annex
    data: Any = cli("annex-a", "report", "--json").json()
    items = {row["item"]: row for row in data["items"]}
    assert sorted(items) == list(range(1, 12))
    assert [items[n]["name"] for n in (1, 5, 11)] == ["contacts", "s47 enquiries and initial conferences", "adopters"]
    referrals = items[3]
    assert (referrals["requested"], referrals["hours"], referrals["pence"], referrals["pounds"]) == (
        True, "12.5", 125050, "1250.50")
    assert (referrals["sources"], referrals["codings"], referrals["citations"], referrals["cited_codings"]) == (
        1, 2, 2, 2)
    assert referrals["areas"] == ["help-protection", "leadership"]
    assert (referrals["hours_per_citation"], referrals["pence_per_citation"]) == ("6.25", 62525)
    assessments = items[4]  # two codings, one cited by the revised help-protection grade
    assert (assessments["codings"], assessments["citations"], assessments["hours_per_citation"]) == (2, 1, "8.00")
    assert assessments["pence_per_citation"] is None
    protection = items[7]  # cited but never costed
    assert (protection["citations"], protection["hours"], protection["hours_per_citation"]) == (2, None, None)
    early_help = items[2]  # requested, never supplied evidence that was cited
    assert early_help["supplied"] and early_help["never_cited"]
    assert not items[1]["supplied"] and items[1]["never_cited"]
    assert data["never_cited"] == [2]
    assert (data["total_hours"], data["total_pence"], data["citations"]) == ("20.5", 125050, 5)
    assert (data["hours_per_citation"], data["pence_per_citation"]) == ("6.83", 62525)
    text = cli("annex-a", "report").out
    assert " 2 early help" in text and "NEVER CITED" in text.splitlines()[2]
    assert "6.25 h, £625.25" in text
    assert text.splitlines()[-1] == "Never cited in a judgment: 2 early help."


@pytest.fixture
def reported_annex(team: CLI) -> CLI:
    populate(team.url)
    return team


def test_a_new_declaration_replaces_the_figure_and_counts_as_a_correction(reported_annex: CLI) -> None:
    cli = reported_annex
    assert cli("annex-a", "cost", "3", "--hours", "10").code == 0
    again = cli("annex-a", "cost", "3", "--hours", "10")
    assert again.one_line_error() == "error: Annex A item 3 (referrals) is declared at that cost already."
    row = next(r for r in cli("annex-a", "report", "--json").json()["items"] if r["item"] == 3)  # type: ignore[index]
    assert (row["hours"], row["pence"], row["declarations"], row["hours_per_citation"]) == ("10", None, 2, "5.00")


@pytest.mark.parametrize(("args", "message"), [
    (("cost", "12", "--hours", "3"), "error: Annex A item '12' does not exist; use a number 1 to 11 or a name ("),
    (("cost", "zebras", "--hours", "3"), "error: Annex A item 'zebras' does not exist"),
    (("request", "0"), "error: Annex A item '0' does not exist"),
    (("cost", "3", "--hours", "-3"), "error: The number of hours -3 is negative; a declared cost is zero or more."),
    (("cost", "3", "--hours", "2", "--pounds", "-0.01"), "error: The cost in pounds -0.01 is negative"),
    (("cost", "3", "--hours", "NaN"), "error: The number of hours 'NaN' is not a number"),
    (("cost", "3", "--hours", "1.001"), "error: The hours 1.001 have more than two decimal places"),
    (("cost", "3", "--hours", "1", "--pounds", "2.999"), "error: The cost £2.999 has fractions of a penny"),
    (("cost", "3", "--hours", "20000"), "error: 20000 hours is more than 10000"),
    (("request", "3"), "error: Annex A item 3 (referrals) was recorded as requested already."),
])
def test_bad_input_is_one_line_and_leaves_the_ledger_unchanged(
    reported_annex: CLI, args: tuple[str, ...], message: str
) -> None:
    before = _state(reported_annex)
    done = reported_annex("annex-a", *args)
    assert done.one_line_error().startswith(message)
    assert done.code == BadInput.exit_code
    assert _state(reported_annex) == before


def test_only_the_lead_inspector_records_annex_a(team: CLI) -> None:
    before = _state(team)
    done = team("--as", "bob", "annex-a", "cost", "3", "--hours", "1")
    assert "'data.cost' needs the role lead-inspector" in done.one_line_error()
    assert "'data.request'" in team("--as", "bob", "annex-a", "request", "3").one_line_error()
    assert _state(team) == before


def test_recording_a_cost_loads_neither_sqlalchemy_nor_rich(team: CLI) -> None:
    code = (
        "import sys\nfrom cli.main import main\n"
        "main(['annex-a', 'cost', '5', '--hours', '2'])\n"
        "print('loaded', 'sqlalchemy' in sys.modules, 'rich' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=team.cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "loaded False False"
