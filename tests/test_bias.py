"""Bias checks: for each, a constructed ledger that must trigger it and a balanced ledger that triggers nothing.

Ledgers are built through the ledger's own commands with a clock that walks through fieldwork days, then
reviewed with ``evidence bias --json`` as a person would run it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from scipy.stats import binomtest, poisson

from cli.hypothesis import candidates
from ledger import bias_review, codebook, hypothesis, judgment
from ledger.application import Ledger
from ledger.coding import CodingRequest, prepare
from ledger.contracts import BiasFinding
from ledger.events import Role
from ledger.hookspecs import hookimpl
from ledger.inspection import add_member, load, open_inspection
from ledger.pluginmanager import _CACHE, plugin_manager
from ledger.source import Kind, NewSource, Source, register
from plugins.bias.common import binomial_tail, poisson_tail, upper_fence
from plugins.codebooks import load_codebook
from plugins.frameworks import load_framework

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from uuid import UUID

    from tests.conftest import CLI

REF = "barnet-2017"
HP = "help-protection"
ASSESS, SEEN = "help-protection/assessment", "help-protection/child-seen-wishes-feelings"
THRESHOLDS, CONTACTS = "help-protection/thresholds", "help-protection/contacts-and-referrals"
OVERSIGHT = "leadership/management-oversight-supervision"
BASE = datetime(2017, 1, 9, 8, 0, tzinfo=UTC)
CHECKS = {"data-overload", "anchoring", "availability", "confirmation", "uneven-reliability", "deficit-model",
          "impact-blindness"}


class Clock:
    """Time that moves a minute per event, and jumps to the morning of a fieldwork day when asked."""

    def __init__(self) -> None:
        self.now = BASE

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def day(self, number: int) -> None:
        self.now = max(self.now, BASE + timedelta(days=number - 1))


class Fieldwork:
    """An inspection built through the ledger's commands: alice leads, bob inspects."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = Clock()
        self.ledger = Ledger(url, create=True, clock=self.clock)
        open_inspection(self.ledger, "alice", REF, authority="Barnet", framework="sif-2013")
        add_member(self.ledger, "alice", REF, "bob", Role.INSPECTOR)
        self.inspection = load(self.ledger, REF)
        codebook.adopt(self.ledger, "alice", self.inspection, load_codebook("sif-2013"))
        self.sources = 0
        self.coded: list[tuple[UUID, str, str]] = []  # (coding, code, valence)
        self.position: dict[UUID, int] = {}

    def on(self, day: int) -> Fieldwork:
        self.clock.day(day)
        return self

    def source(self, by: str, kind: str, case: str | None = None) -> UUID:
        self.sources += 1
        text = f"Source {self.sources}: notes on what the child and the workers said and did (item {self.sources})."
        added, _ = register(self.ledger, by, self.inspection, [NewSource(title=f"s{self.sources}", text=text,
                                                                         kind=Kind(kind), case=case)])
        self.position[added[0]] = self.ledger.last_position()
        return added[0]

    def code(self, by: str, source: UUID, code: str, valence: str) -> UUID:
        state = self.ledger.get(Source, source)
        request = CodingRequest(code=code, valence=valence, start=0, end=len(state.text))
        event = prepare(self.ledger, by, self.inspection, state, codebook.load(self.ledger, self.inspection), request)
        self.ledger.append(event)
        self.coded.append((event.originator_id, code, valence))
        self.position[event.originator_id] = self.ledger.last_position()
        return event.originator_id

    def evidence(self, by: str, kind: str, case: str | None, code: str, valence: str) -> UUID:
        return self.code(by, self.source(by, kind, case), code, valence)

    def hypothesis(self, by: str, area: str, codes: list[str], grade: str) -> UUID:
        return hypothesis.state(self.ledger, by, self.inspection, codebook.load(self.ledger, self.inspection),
                                f"{area} is {grade}", area=area, codes=codes, provisional_grade=grade)

    def _h(self, hid: UUID) -> hypothesis.Hypothesis:
        return self.ledger.get(hypothesis.Hypothesis, hid)

    def link(self, by: str, hid: UUID, coding: UUID, stance: str) -> None:
        from ledger.coding import Coding

        found = self.ledger.get(Coding, coding)
        case = self.ledger.get(Source, found.source).case
        hypothesis.link(self.ledger, by, self.inspection, self._h(hid), found, stance, case)

    def check(self, by: str, hid: UUID) -> None:
        state = self._h(hid)
        pool, cases, through = candidates(self.ledger, self.inspection, state)
        hypothesis.check(self.ledger, by, self.inspection, state, codebook.load(self.ledger, self.inspection), pool,
                         cases, through=through)

    def settle(self, by: str, hid: UUID, supports: list[UUID], contradicts: list[UUID]) -> None:
        """Link the evidence, run the check and accept the hypothesis."""
        for coding in supports:
            self.link(by, hid, coding, "supports")
        for coding in contradicts:
            self.link(by, hid, coding, "contradicts")
        self.check(by, hid)
        hypothesis.accept(self.ledger, by, self.inspection, self._h(hid), "weighed")

    def propose(self, by: str, area: str, grade: str, codings: list[UUID]) -> None:
        judgment.propose(self.ledger, by, self.inspection, load_framework("sif-2013"), area, grade, "on the evidence",
                         codings)

    def close(self) -> None:
        self.ledger.close()


Extra = dict[int, "Callable[[Fieldwork], None]"]


def balanced(f: Fieldwork, extra: Extra | None = None, after: Callable[[Fieldwork], None] | None = None) -> UUID:
    """Four days of evenly coded, varied evidence; a hypothesis tested and accepted; a judgment citing it all.

    ``extra[day]`` adds evidence at the end of that day; every help-protection coding is then weighed by the
    hypothesis (strengths support, weaknesses contradict); ``after`` runs last. Returns the hypothesis id.
    """
    extra = extra or {}
    plan = {
        1: [("alice", "case-record", "C1", ASSESS, "strength"), ("bob", "child-feedback", "C2", SEEN, "strength")],
        2: [("alice", "observation", "C3", ASSESS, "strength"), ("bob", "family-feedback", "C4", THRESHOLDS, "weakness")],
        3: [("alice", "case-record", "C5", SEEN, "strength"), ("bob", "interview", None, ASSESS, "strength")],
        4: [("alice", "case-record", "C6", THRESHOLDS, "strength"), ("bob", "child-feedback", "C7", SEEN, "weakness")],
    }
    hid = None
    for day, items in plan.items():
        f.on(day)
        for item in items:
            f.evidence(*item)
        if day == 1:
            hid = f.hypothesis("alice", HP, [HP], "good")
        if day in extra:
            extra[day](f)
    assert hid is not None
    area = [(c, v) for c, code, v in f.coded if code.startswith(HP + "/")]
    f.settle("alice", hid, [c for c, v in area if v == "strength"], [c for c, v in area if v == "weakness"])
    f.propose("alice", HP, "good", [c for c, _ in area])
    if after is not None:
        after(f)
    return hid


@pytest.fixture
def field(tmp_path: Any) -> Iterator[Fieldwork]:
    built = Fieldwork(f"sqlite:///{tmp_path}/bias.db")
    yield built
    built.close()


def review(cli: CLI, url: str, *args: str) -> dict[str, Any]:
    result = cli("bias", "--json", *args, env={"EVIDENCE_LEDGER_URL": url, "EVIDENCE_USER": "alice",
                                             "EVIDENCE_INSPECTION": REF})
    assert result.code == 0, result.err
    return result.json()  # type: ignore[return-value]


def fired(data: dict[str, Any]) -> set[str]:
    return {f["check"] for f in data["findings"]}


def only(data: dict[str, Any], check: str) -> list[dict[str, Any]]:
    assert fired(data) == {check}, [(f["check"], f["title"]) for f in data["findings"]]
    return data["findings"]


# --- the balanced ledger ---------------------------------------------------------------------------


def test_balanced_ledger_triggers_no_check(field: Fieldwork, cli: CLI) -> None:
    balanced(field)
    data = review(cli, field.url)
    assert data["findings"] == []
    assert {c["name"] for c in data["checks"]} >= CHECKS
    assert all(c["supplier"] == "plugins.bias" for c in data["checks"] if c["name"] in CHECKS)


# --- data overload ---------------------------------------------------------------------------------


def test_overload_flags_sources_left_uncoded_past_their_day(field: Fieldwork, cli: CLI) -> None:
    backlog: list[UUID] = []
    balanced(field, {1: lambda f: backlog.extend(f.source("alice", "case-record", f"X{i}") for i in range(3))})
    (found,) = only(review(cli, field.url), "data-overload")
    assert found["severity"] == "warning" and found["details"]["inspector"] == "alice"
    assert found["details"]["backlog_by_day"] == {"2017-01-09": 3}
    assert found["positions"] == sorted(field.position[s] for s in backlog)


def test_overload_flags_a_day_of_bulk_coding(field: Fieldwork, cli: CLI) -> None:
    bulk: list[UUID] = []

    def catch_up(f: Fieldwork) -> None:
        source = f.source("bob", "meeting")
        bulk.extend(f.code("bob", source, HP, "neutral") for _ in range(5))

    balanced(field, {3: catch_up})
    (found,) = only(review(cli, field.url), "data-overload")
    assert (found["severity"], found["details"]["inspector"], found["details"]["day"]) == ("info", "bob", "2017-01-11")
    assert {field.position[c] for c in bulk} <= set(found["positions"])


# --- anchoring -------------------------------------------------------------------------------------


def test_anchoring_flags_grades_left_standing_after_contrary_evidence(field: Fieldwork, cli: CLI) -> None:
    hid = balanced(field)
    field.on(5)
    late = [field.evidence("bob", "case-record", f"C{n}", ASSESS, "weakness") for n in (8, 9)]
    for coding in late:
        field.link("alice", hid, coding, "contradicts")
    field.check("alice", hid)
    found = only(review(cli, field.url), "anchoring")
    assert sorted(f["title"].split(" was ")[0] for f in found) == [
        f"Hypothesis {hid.hex[:8]} (good)", "The help-protection grade (good)"]
    for f in found:
        assert {field.position[c] for c in late} <= set(f["positions"])
        assert f["details"]["contrary_since"] == 2 and f["details"]["consistent_since"] == 0


# --- availability ----------------------------------------------------------------------------------


def test_availability_flags_a_finding_resting_on_one_case(field: Fieldwork, cli: CLI) -> None:
    same_case: list[UUID] = []

    def second_source(f: Fieldwork) -> None:
        same_case.append(f.evidence("bob", "case-record", "C4", THRESHOLDS, "weakness"))

    def narrow(f: Fieldwork) -> None:
        first = next(c for c, code, v in f.coded if code == THRESHOLDS and v == "weakness")
        other = next(c for c, code, v in f.coded if code == THRESHOLDS and v == "strength")
        hid = f.hypothesis("alice", HP, [THRESHOLDS], "requires-improvement")
        f.settle("alice", hid, [first, *same_case], [other])

    balanced(field, {2: second_source}, narrow)
    (found,) = only(review(cli, field.url), "availability")
    assert found["details"]["unit"] == "C4" and found["details"]["support"] == 2
    assert "rests on one case" in found["title"]


def test_availability_flags_cited_evidence_skewed_to_the_last_days(field: Fieldwork, cli: CLI) -> None:
    by_day: dict[int, list[UUID]] = {}
    for day in range(1, 9):
        field.on(day)
        by_day[day] = [field.evidence("alice", "case-record", f"A{day}", ASSESS, "strength"),
                       field.evidence("bob", "child-feedback", f"B{day}", SEEN, "strength")]
    weak = [field.evidence("alice", "case-record", "W1", ASSESS, "weakness")]
    hid = field.hypothesis("alice", HP, [HP], "good")
    field.settle("alice", hid, by_day[7] + by_day[8], weak)
    (found,) = only(review(cli, field.url), "availability")
    assert found["details"]["cited_late"] == 4 and found["details"]["last_days_from"] == "2017-01-15"
    assert found["positions"] == sorted(field.position[c] for c in by_day[7] + by_day[8])


# --- confirmation ----------------------------------------------------------------------------------


def test_confirmation_flags_an_unchecked_hypothesis_and_contrary_codings_never_considered(
    field: Fieldwork, cli: CLI
) -> None:
    seen = {v: [c for c, code, val in field.coded if code == SEEN and val == v] for v in ("strength", "weakness")}

    def hunch(f: Fieldwork) -> None:
        seen.update({v: [c for c, code, val in f.coded if code == SEEN and val == v] for v in ("strength", "weakness")})
        hid = f.hypothesis("alice", HP, [SEEN], "good")
        for coding in seen["strength"]:
            f.link("alice", hid, coding, "supports")

    balanced(field, after=hunch)
    found = only(review(cli, field.url), "confirmation")
    titles = sorted(f["title"] for f in found)
    assert "no disconfirming-evidence check" in titles[1] and "1 contrary coding(s) never considered" in titles[0]
    missed = next(f for f in found if "never considered" in f["title"])
    assert field.position[seen["weakness"][0]] in missed["positions"]
    assert missed["details"]["surfaced_by_check"] == []


# --- uneven reliability ----------------------------------------------------------------------------


def test_reliability_flags_findings_that_fall_without_the_weakest_tier(field: Fieldwork, cli: CLI) -> None:
    extra: dict[str, list[UUID]] = {}

    def data(f: Fieldwork) -> None:
        extra["authority"] = [f.evidence("alice", "performance-data", None, ASSESS, "strength") for _ in range(2)]
        extra["against"] = [f.evidence("bob", "case-record", f"C{n}", ASSESS, "weakness") for n in (8, 9)]

    def lean(f: Fieldwork) -> None:
        direct = next(c for c, code, v in f.coded if code == ASSESS and v == "strength")
        hid = f.hypothesis("alice", HP, [ASSESS], "good")
        f.settle("alice", hid, [*extra["authority"], direct], extra["against"])

    balanced(field, {2: data}, lean)
    (found,) = only(review(cli, field.url), "uneven-reliability")
    assert found["details"]["weakest_tier"] == "authority" and found["details"]["weak_support"] == 2
    # Re-tiering performance data as direct evidence makes the same finding stand.
    env = {"EVIDENCE_LEDGER_URL": field.url, "EVIDENCE_USER": "alice", "EVIDENCE_INSPECTION": REF}
    assert cli("bias", "tiers", "performance-data=direct", env=env).code == 0
    assert review(cli, field.url)["findings"] == []


def test_reliability_flags_findings_that_hinge_on_one_source(field: Fieldwork, cli: CLI) -> None:
    extra: dict[str, Any] = {}

    def observe(f: Fieldwork) -> None:
        extra["source"] = f.source("alice", "observation", "C10")
        extra["pair"] = [f.code("alice", extra["source"], SEEN, "strength") for _ in range(2)]
        extra["against"] = f.evidence("bob", "case-record", "C11", SEEN, "weakness")

    def hinge(f: Fieldwork) -> None:
        other = next(c for c, code, v in f.coded if code == SEEN and v == "strength" and c not in extra["pair"])
        weak = [c for c, code, v in f.coded if code == SEEN and v == "weakness"]
        hid = f.hypothesis("alice", HP, [SEEN], "good")
        f.settle("alice", hid, [*extra["pair"], other], weak)

    balanced(field, {3: observe}, hinge)
    (found,) = only(review(cli, field.url), "uneven-reliability")
    assert found["details"]["source"] == extra["source"].hex and found["details"]["carried"] == 2


# --- deficit model ---------------------------------------------------------------------------------


def test_deficit_flags_an_area_where_only_weaknesses_were_coded(field: Fieldwork, cli: CLI) -> None:
    weak: list[UUID] = []
    balanced(field, {2: lambda f: weak.extend(f.evidence("bob", "interview", None, OVERSIGHT, "weakness")
                                              for _ in range(2))})
    (found,) = only(review(cli, field.url), "deficit-model")
    assert (found["area"], found["title"]) == ("leadership", "No strengths coded in leadership")
    assert found["positions"] == sorted(field.position[c] for c in weak)


def test_deficit_flags_strengths_found_but_not_reported(field: Fieldwork, cli: CLI) -> None:
    weak: list[UUID] = []

    def leadership(f: Fieldwork) -> None:
        weak.append(f.evidence("bob", "family-feedback", "C20", OVERSIGHT, "weakness"))
        weak.append(f.evidence("alice", "case-record", "C21", OVERSIGHT, "weakness"))
        f.evidence("alice", "interview", None, OVERSIGHT, "strength")

    balanced(field, {2: leadership}, lambda f: f.propose("alice", "leadership", "requires-improvement", weak))
    (found,) = only(review(cli, field.url), "deficit-model")
    assert (found["area"], found["title"]) == ("leadership", "Strengths found in leadership but not reported")
    only(review(cli, field.url, "--area", "leadership"), "deficit-model")
    assert review(cli, field.url, "--area", HP)["findings"] == []


# --- impact blindness ------------------------------------------------------------------------------


def test_impact_flags_findings_resting_only_on_process_evidence(field: Fieldwork, cli: CLI) -> None:
    process: list[UUID] = []

    def referrals(f: Fieldwork) -> None:
        process.extend(f.evidence("bob", "case-record", f"C{n}", CONTACTS, "weakness") for n in (12, 13))

    def tasks(f: Fieldwork) -> None:
        hid = f.hypothesis("alice", HP, [CONTACTS], "inadequate")
        f.settle("alice", hid, process, [])

    balanced(field, {2: referrals}, tasks)
    (found,) = only(review(cli, field.url), "impact-blindness")
    assert "rests only on process evidence" in found["title"] and found["details"]["support"] == 2


def test_impact_flags_an_inspection_without_children_or_families(field: Fieldwork, cli: CLI) -> None:
    field.on(1)
    coding = field.evidence("alice", "interview", None, ASSESS, "strength")
    (found,) = only(review(cli, field.url), "impact-blindness")
    assert found["title"] == "No feedback from children or families" and found["area"] is None
    assert found["positions"] == [field.position[coding] - 1]


# --- the review as a whole -------------------------------------------------------------------------


class _ProbeCheck:
    name = "probe-check"
    bias = "test bias"
    description = "A third-party check registered by a test plugin."

    def run(self, evidence: Any) -> list[BiasFinding]:
        return [BiasFinding(check=self.name, severity="info", title=f"{len(evidence.codings)} codings seen",
                            explanation="The probe saw the view.", advice="None.", positions=(evidence.through,))]


class _ProbePlugin:
    @hookimpl
    def register_bias_checks(self, register: Callable[[Any], None]) -> None:
        register(_ProbeCheck())


@pytest.fixture
def probe() -> Iterator[None]:
    pm = plugin_manager()
    pm.register(_ProbePlugin(), name="test-bias-probe")
    _CACHE.clear()
    try:
        yield
    finally:
        pm.unregister(name="test-bias-probe")
        _CACHE.clear()


def test_a_third_party_check_appears_in_bias_and_plugins(field: Fieldwork, cli: CLI, probe: None) -> None:
    balanced(field)
    data = review(cli, field.url)
    (found,) = only(data, "probe-check")
    assert found["title"] == f"{len(field.coded)} codings seen"
    assert {"name": "probe-check", "bias": "test bias", "description": _ProbeCheck.description,
            "supplier": "test-bias-probe", "findings": 1} in data["checks"]
    listed = cli("plugins").json()
    mine = next(p for p in listed if p["name"] == "test-bias-probe")  # type: ignore[union-attr]
    assert mine["registered"] == {"bias_checks": ["probe-check"]} and mine["hooks"] == ["register_bias_checks"]


def test_review_is_byte_identical_after_a_rebuild_and_is_recorded(backend: str, cli: CLI) -> None:
    f = Fieldwork(backend)
    try:
        balanced(f, {2: lambda g: g.source("alice", "case-record", "X1")})  # one finding: an uncoded source
    finally:
        f.close()
    env = {"EVIDENCE_LEDGER_URL": backend, "EVIDENCE_USER": "alice", "EVIDENCE_INSPECTION": REF}
    before = cli("bias", "--json", env=env).out
    listed = cli("hypothesis", "list", "--json", env=env).out
    assert cli("projections", "rebuild", env=env).code == 0
    assert cli("bias", "--json", env=env).out == before
    assert cli("hypothesis", "list", "--json", env=env).out == listed
    recorded = cli("bias", "--record", env=env)
    assert recorded.code == 0 and "Recorded this review" in recorded.out
    (event,) = cli("log", "--type", "BiasReview.Recorded", "--json", env=env).json()  # type: ignore[misc]
    assert [f["check"] for f in event["findings"]] == ["data-overload"]
    assert event["through"] == review(cli, backend)["through"]
    from projections import ready
    from projections.hypotheses import bias_review_history

    ledger = Ledger(backend)
    try:
        with ready(ledger).connect() as conn:
            (kept,) = bias_review_history(conn, load(ledger, REF).id)
        last = ledger.last_position()
    finally:
        ledger.close()
    assert kept["findings"] == event["findings"] and kept["position"] == last


def test_text_output_names_each_finding_with_its_events(field: Fieldwork, cli: CLI) -> None:
    balanced(field, {1: lambda f: f.source("alice", "case-record", "X1")})
    env = {"EVIDENCE_LEDGER_URL": field.url, "EVIDENCE_USER": "alice", "EVIDENCE_INSPECTION": REF}
    text = cli("bias", env=env).out
    assert "1 finding(s)" in text and "[info] data-overload: alice has 1 source(s) uncoded" in text
    assert "What to do:" in text and "Events: " in text


def test_bad_input_is_one_line_and_changes_nothing(field: Fieldwork, cli: CLI) -> None:
    balanced(field)
    env = {"EVIDENCE_LEDGER_URL": field.url, "EVIDENCE_USER": "alice", "EVIDENCE_INSPECTION": REF}
    before = (field.ledger.last_position(), field.ledger.verify())
    for args, words in (
        (("bias", "--area", "nowhere"), "not a judgment area"),
        (("bias", "tiers", "nonsense"), "is not KIND=TIER"),
        (("bias", "tiers", "gossip=direct"), "is not a source kind"),
        (("bias", "tiers", "interview=sure"), "is not a reliability tier"),
        (("bias", "tiers", "interview=practitioner"), "nothing to change"),
    ):
        assert words in cli(*args, env=env).one_line_error()
    assert "needs the role lead-inspector" in cli("bias", "tiers", "interview=direct",
                                                  env=env | {"EVIDENCE_USER": "bob"}).one_line_error()
    assert (field.ledger.last_position(), field.ledger.verify()) == before
    shown = cli("bias", "tiers", "--json", env=env).json()
    assert shown["tiers"]["interview"] == "practitioner" and shown["order"] == ["direct", "practitioner", "authority"]


@pytest.mark.parametrize(("k", "n", "p"), [(4, 4, 0.25), (1, 6, 0.25), (3, 10, 0.1), (0, 5, 0.5), (7, 9, 0.6)])
def test_binomial_tail_matches_scipy(k: int, n: int, p: float) -> None:
    assert math.isclose(binomial_tail(k, n, p), binomtest(k, n, p, alternative="greater").pvalue, rel_tol=1e-9)


@pytest.mark.parametrize(("k", "mean"), [(3, 1.0), (6, 1.0), (31, 15.0), (0, 2.0)])
def test_poisson_tail_matches_scipy(k: int, mean: float) -> None:
    assert math.isclose(poisson_tail(k, mean), poisson.sf(k - 1, mean), rel_tol=1e-9, abs_tol=1e-15)


def test_upper_fence_is_tukeys() -> None:
    assert upper_fence([1, 1, 1, 1, 1, 3, 3, 4]) == 3 + 3 * 2
    assert upper_fence([1, 1, 1, 1, 1, 3, 3, 4], k=1.5) == 3 + 1.5 * 2


def test_recorded_findings_round_trip_with_plain_details(field: Fieldwork) -> None:
    finding = BiasFinding(check="x", severity="info", title="t", explanation="e", advice="a", positions=(2, 1),
                          details={"pair": (1, 2)})
    event = bias_review.record(field.ledger, "alice", field.inspection, [finding], through=3, area=None, checks=["x"])
    stored = [e for _, e in field.ledger.history()][-1]
    assert stored == event and stored.findings[0].details == {"pair": [1, 2]}
