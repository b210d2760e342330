"""``evidence demo``: a realistic generated inspection in a fresh ledger, the same for the same seed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from ledger.application import Ledger

if TYPE_CHECKING:
    from conftest import CLI, Result

AREAS = ["overall", "help-protection", "looked-after", "adoption", "care-leavers", "leadership", "lscb"]


@pytest.fixture
def demo(cli: CLI) -> tuple[CLI, Result]:
    done = cli("demo", "nm")
    assert done.code == 0, done.err
    return cli, done


def _head(url: str) -> tuple[int, str]:
    ledger = Ledger(url)
    try:
        ledger.verify()
        position, digest = ledger.head()
        return position, digest.hex()
    finally:
        ledger.close()


def test_the_demo_summarises_and_ends_by_replaying_the_overall_grade(demo: tuple[CLI, Result]) -> None:
    cli, done = demo
    lines = done.out.splitlines()
    assert lines[0] == "Wrote a fictional inspection, northmoor-2017 (Northmoor Borough Council (fictional)), to nm:"
    assert lines[1] == "  7 inspectors, 3 panel members and moderators; 30 tracked cases"
    assert "Replay of Overall effectiveness of children's services (overall)" in lines
    assert lines[-1] == "  - Result: requires improvement (published)."
    url = f"sqlite:///{(cli.cwd / 'nm' / '.evidence' / 'ledger.db').resolve()}"
    position, _ = _head(url)
    assert f"{position} events" in lines[3]


def test_the_demo_ledger_holds_a_whole_inspection(demo: tuple[CLI, Result]) -> None:
    cli, _ = demo
    here = cli.cwd / "nm"
    rows = cli("judge", "list", "--json", cwd=here).json()
    assert [r["area"] for r in rows] == AREAS
    assert {r["status"] for r in rows} == {"published"}
    sources = cli("source", "list", "--json", cwd=here).json()
    assert {"case-record", "interview", "observation", "child-feedback", "family-feedback", "performance-data",
            "self-assessment"} <= {s["kind"] for s in sources}
    assert len({s["case"] for s in sources if s["case"]}) == 30
    overall = json.loads(cli("replay", "overall", "--format", "json", cwd=here).out)
    kinds_of_step = [s["kind"] for s in overall["steps"]]
    assert {"proposed", "revised", "feedback", "bias-review", "panel-revised", "moderated", "finalised",
            "published"} <= set(kinds_of_step)
    assert any(s["differs"] for s in overall["steps"])
    assert any(s["hypotheses"] and s["hypotheses"][0]["checks"] for s in overall["steps"])
    times = [datetime.fromisoformat(s["at"]) for s in overall["steps"]]
    assert times == sorted(times) and (times[-1] - times[0]).days < 28 and times[0].year == 2017
    for row in rows:
        replayed = json.loads(cli("replay", row["area"], "--format", "json", cwd=here).out)
        assert replayed["state"] == row
        assert all(q["verified"] for s in replayed["steps"] for q in s["evidence"])
    profile = cli("judge", "profile", "help-protection", "--json", cwd=here).json()
    assert profile["codings"] >= 100 and profile["cases"] >= 12


def test_the_demo_is_a_realistic_size(demo: tuple[CLI, Result]) -> None:
    _, done = demo
    counts = done.out.splitlines()[2:4]
    sources = int(counts[0].split()[0])
    codings = int(counts[1].split()[0])
    assert sources >= 90 and codings >= 300


def test_the_demo_refuses_a_ledger_that_holds_events(demo: tuple[CLI, Result]) -> None:
    cli, _ = demo
    url = f"sqlite:///{(cli.cwd / 'nm' / '.evidence' / 'ledger.db').resolve()}"
    before = _head(url)
    line = cli("demo", "nm").one_line_error()
    assert "holds a ledger with events already" in line
    assert _head(url) == before


def test_the_demo_fills_an_empty_ledger_made_by_init(cli: CLI) -> None:
    target = cli.cwd / "empty"
    assert cli("init", str(target)).code == 0
    done = cli("demo", str(target))
    assert done.code == 0, done.err
    config = (target / ".evidence" / "config.toml").read_text(encoding="utf-8")
    assert 'url = "sqlite:///ledger.db"' in config and 'inspection = "northmoor-2017"' in config


def test_the_same_seed_writes_the_same_ledger(cli: CLI) -> None:
    heads = []
    for name, seed in (("a", "2017"), ("b", "2017"), ("c", "11")):
        assert cli("demo", name, "--seed", seed).code == 0
        heads.append(_head(f"sqlite:///{(cli.cwd / name / '.evidence' / 'ledger.db').resolve()}"))
    assert heads[0] == heads[1]
    assert heads[2] != heads[0]
