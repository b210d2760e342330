"""The foundation's command line: bad input is one line on stderr, a non-zero exit, no traceback and no change
to the ledger; and init, inspections, members, stages, the log, projections and plugins behave as documented.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from ledger.errors import AlreadyExists, BadInput, NotALedger, PermissionDenied, StorageError
from ledger.inspection import inspection_id
from ledger.pluginmanager import DEFAULT_PLUGINS

if TYPE_CHECKING:
    from conftest import CLI, Result

TEAM_EVENTS = 3  # barnet-2017 opened by alice, bob and carol added


def refused(result: Result, exit_code: int, *words: str) -> str:
    """The one stderr line of a refused command, checked for its exit code and what it tells the user."""
    line = result.one_line_error()
    assert result.code == exit_code, (result.code, line)
    for word in words:
        assert word in line, line
    return line


# --- outside a ledger -------------------------------------------------------------------------------------

OUTSIDE = [
    ("log",),
    ("verify",),
    ("inspection", "list"),
    ("inspection", "show", "barnet-2017"),
    ("inspection", "open", "barnet-2017", "--authority", "Barnet"),
    ("member", "add", "bob", "--role", "inspector"),
    ("stage", "enter", "fieldwork"),
    ("projections", "rebuild"),
]


@pytest.mark.parametrize("args", OUTSIDE, ids=" ".join)
def test_any_command_outside_a_ledger(cli: CLI, args: tuple[str, ...]) -> None:
    result = cli(*args, env={"EVIDENCE_USER": "alice", "EVIDENCE_INSPECTION": "barnet-2017"})
    refused(result, NotALedger.exit_code, "evidence init", "EVIDENCE_LEDGER_URL")
    assert not (cli.cwd / ".evidence").exists()


@pytest.mark.parametrize("args", [OUTSIDE[0], OUTSIDE[5]], ids=" ".join)
def test_outside_a_ledger_as_a_real_process(cli: CLI, args: tuple[str, ...]) -> None:
    result = cli.subprocess("--as", "alice", "-i", "barnet-2017", *args)
    refused(result, NotALedger.exit_code, "evidence init")
    assert not (cli.cwd / ".evidence").exists()


def test_a_subfolder_finds_the_ledger_above_it(team: CLI) -> None:
    deep = team.cwd / "notes" / "day-1"
    deep.mkdir(parents=True)
    assert len(team("log", "--json", cwd=deep).json()) == TEAM_EVENTS  # type: ignore[arg-type]


def test_a_database_holding_no_ledger_says_run_init(cli: CLI, backend: str) -> None:
    """An empty SQLite file or an empty PostgreSQL schema: 'run evidence init', and nothing is created."""
    if backend.startswith("sqlite"):
        path = backend[len("sqlite:///") :]
        open(path, "wb").close()  # noqa: PTH123 - an empty file, as 'touch' makes
    result = cli("log", env={"EVIDENCE_LEDGER_URL": backend})
    refused(result, StorageError.exit_code, "evidence init")


def test_a_missing_sqlite_file_is_not_created_by_reading(cli: CLI, tmp_path: Any) -> None:
    missing = tmp_path / "typo.db"
    result = cli("log", env={"EVIDENCE_LEDGER_URL": f"sqlite:///{missing}"})
    refused(result, StorageError.exit_code, "evidence init")
    assert not missing.exists()


# --- an unknown inspection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("-i", "nope-2020", "member", "add", "dave", "--role", "inspector"),
        ("-i", "nope-2020", "stage", "enter", "fieldwork"),
        ("inspection", "use", "nope-2020"),
        ("inspection", "show", "nope-2020"),
    ],
    ids=" ".join,
)
def test_an_unknown_inspection(team: CLI, args: tuple[str, ...]) -> None:
    refused(team(*args), BadInput.exit_code, "nope-2020", "evidence inspection open nope-2020")
    assert team.count() == TEAM_EVENTS


def test_an_unknown_inspection_as_a_real_process(team: CLI) -> None:
    result = team.subprocess("-i", "nope-2020", "member", "add", "dave", "--role", "inspector")
    refused(result, BadInput.exit_code, "nope-2020")
    assert team.count() == TEAM_EVENTS


def test_a_malformed_inspection_reference(team: CLI) -> None:
    refused(team("-i", "Bad Ref!", "member", "add", "dave", "--role", "inspector"), BadInput.exit_code, "reference")
    refused(team("inspection", "open", "Bad Ref!", "--authority", "X"), BadInput.exit_code, "reference")
    assert team.count() == TEAM_EVENTS


# --- a malformed URL --------------------------------------------------------------------------------------

MALFORMED = [
    "nonsense",
    "mysql://db.example/evidence",
    "sqlite://",
    "sqlite:///",
    "postgresql://127.0.0.1:notaport/test",
    "postgresql://127.0.0.1/",
    "postgresql://postgres@127.0.0.1/test?schema=Bad-Name",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url(team: CLI, url: str) -> None:
    """The bad URL is refused; the ledger in the folder is not used instead, and is unchanged."""
    result = team("member", "add", "dave", "--role", "inspector", env={"EVIDENCE_LEDGER_URL": url})
    refused(result, BadInput.exit_code)
    assert team.count() == TEAM_EVENTS


def test_a_malformed_url_as_a_real_process(team: CLI) -> None:
    result = team.subprocess("log", env={"EVIDENCE_LEDGER_URL": "mysql://db.example/evidence"})
    refused(result, BadInput.exit_code, "sqlite:///", "postgresql://")
    assert team.count() == TEAM_EVENTS


@pytest.mark.parametrize("url", ["nonsense", "mysql://x/y", "sqlite://"])
def test_init_with_a_malformed_url_creates_nothing(cli: CLI, url: str) -> None:
    refused(cli("init", "--url", url), BadInput.exit_code)
    assert not (cli.cwd / ".evidence").exists()


# --- an unreachable database ------------------------------------------------------------------------------


def test_an_unreachable_postgres_as_a_real_process(team: CLI) -> None:
    url = "postgresql://postgres@127.0.0.1:1/test"
    result = team.subprocess("member", "add", "dave", "--role", "inspector", env={"EVIDENCE_LEDGER_URL": url})
    refused(result, StorageError.exit_code, "127.0.0.1:1", "running")
    assert team.count() == TEAM_EVENTS


@pytest.mark.parametrize("name", ["no-such-folder/ledger.db", "not-a-database.db"])
def test_an_unusable_sqlite_file(team: CLI, tmp_path: Any, name: str) -> None:
    (tmp_path / "not-a-database.db").write_bytes(b"this is not SQLite\n" * 10)
    url = f"sqlite:///{tmp_path / name}"
    refused(team("log", env={"EVIDENCE_LEDGER_URL": url}), StorageError.exit_code, url)
    assert team.count() == TEAM_EVENTS


def test_init_at_an_unusable_database_leaves_no_folder(cli: CLI, tmp_path: Any) -> None:
    refused(cli("init", "--url", f"sqlite:///{tmp_path}/no-such-folder/x.db"), StorageError.exit_code)
    assert not (cli.cwd / ".evidence").exists()


# --- roles ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--as", "bob", "member", "add", "dave", "--role", "inspector"), ("bob", "inspector", "lead-inspector")),
        (("--as", "carol", "stage", "enter", "fieldwork"), ("carol", "panel-member", "lead-inspector")),
        (("--as", "mallory", "member", "add", "dave", "--role", "lead-inspector"), ("mallory", "not a member")),
        (("--as", "mallory", "stage", "enter", "published"), ("mallory", "not a member")),
    ],
    ids=["inspector-adds-member", "panel-enters-stage", "stranger-adds-member", "stranger-enters-stage"],
)
def test_a_role_that_may_not_act(team: CLI, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    refused(team(*args), PermissionDenied.exit_code, *words)
    assert team.count() == TEAM_EVENTS


def test_a_role_that_may_not_act_as_a_real_process(team: CLI) -> None:
    result = team.subprocess("member", "add", "dave", "--role", "inspector", env={"EVIDENCE_USER": "bob"})
    refused(result, PermissionDenied.exit_code, "bob", "--as")
    assert team.count() == TEAM_EVENTS


# --- init, inspections, members, stages -------------------------------------------------------------------


def test_init_twice_says_it_exists(team: CLI) -> None:
    config = (team.cwd / ".evidence" / "config.toml").read_bytes()
    refused(team("init", "--user", "zed"), AlreadyExists.exit_code, "exists already")
    assert (team.cwd / ".evidence" / "config.toml").read_bytes() == config
    assert team.count() == TEAM_EVENTS


def test_init_makes_a_verifiable_empty_ledger(cli: CLI) -> None:
    result = cli("init")
    assert result.code == 0 and "Created a ledger" in result.out
    verified = cli("verify", "--json").json()
    assert isinstance(verified, dict)
    assert (verified["verified"], verified["head_position"], verified["head_digest"]) == (0, 0, "00" * 32)


def test_open_an_inspection_twice(team: CLI) -> None:
    refused(team("inspection", "open", "barnet-2017", "--authority", "Barnet"), AlreadyExists.exit_code, "already")
    assert team.count() == TEAM_EVENTS


def test_opening_makes_the_inspection_current(team: CLI) -> None:
    shown = team("inspection", "show", "--json").json()
    assert isinstance(shown, dict)
    assert shown["reference"] == "barnet-2017"
    assert shown["id"] == inspection_id("barnet-2017").hex
    assert {m["person"]: m["role"] for m in shown["members"]} == {
        "alice": "lead-inspector", "bob": "inspector", "carol": "panel-member"
    }
    assert {m["person"]: m["name"] for m in shown["members"]}["bob"] == "Bob Inspector"


def test_adding_the_same_member_twice(team: CLI) -> None:
    refused(team("member", "add", "bob", "--role", "inspector"), AlreadyExists.exit_code, "bob")
    assert team.count() == TEAM_EVENTS


def test_evidence_user_and_as(team: CLI) -> None:
    assert team("inspection", "open", "hackney-2018", "--authority", "Hackney", env={"EVIDENCE_USER": "dana"}).code == 0
    assert team("--as", "erin", "inspection", "open", "camden-2019", "--authority", "Camden",
                env={"EVIDENCE_USER": "dana"}).code == 0
    actors = [(e["actor"], e["reference"]) for e in log(team) if e["type"] == "Inspection.Opened"]
    assert actors == [("alice", "barnet-2017"), ("dana", "hackney-2018"), ("erin", "camden-2019")]


def test_no_one_acting(cli: CLI) -> None:
    assert cli("init").code == 0
    refused(cli("inspection", "open", "x-2017", "--authority", "X"), BadInput.exit_code, "--as", "EVIDENCE_USER")
    assert cli.count() == 0


def test_stage_enter_by_the_lead_and_repeated(team: CLI) -> None:
    assert team("stage", "enter", "fieldwork").code == 0
    refused(team("stage", "enter", "fieldwork"), AlreadyExists.exit_code, "fieldwork")
    assert team("inspection", "show", "--json").json()["stage"] == "fieldwork"  # type: ignore[index]
    assert team.count() == TEAM_EVENTS + 1


# --- the log ----------------------------------------------------------------------------------------------


def log(cli: CLI, *args: str) -> list[dict[str, Any]]:
    data = cli("log", "--json", *args).json()
    assert isinstance(data, list)
    return data


@pytest.fixture
def busy(team: CLI) -> CLI:
    """Six events by two actors on two inspections."""
    for args in (
        ("stage", "enter", "fieldwork"),
        ("--as", "bob", "inspection", "open", "hackney-2018", "--authority", "Hackney"),
        ("--as", "bob", "-i", "hackney-2018", "member", "add", "alice", "--role", "inspector"),
    ):
        assert team(*args).code == 0, args
    return team


def positions(entries: list[dict[str, Any]]) -> list[int]:
    return [e["position"] for e in entries]


def test_log_json_lists_every_event_in_order(busy: CLI) -> None:
    entries = log(busy)
    assert positions(entries) == [1, 2, 3, 4, 5, 6]
    assert [e["type"] for e in entries] == [
        "Inspection.Opened", "Inspection.MemberJoined", "Inspection.MemberJoined", "Inspection.StageEntered",
        "Inspection.Opened", "Inspection.MemberJoined",
    ]
    assert {"actor", "role", "timestamp", "originator_id", "originator_version"} <= entries[0].keys()


def test_log_filters_by_type_actor_and_aggregate(busy: CLI) -> None:
    assert positions(log(busy, "--type", "Inspection.MemberJoined")) == [2, 3, 6]
    assert positions(log(busy, "--type", "Inspection.")) == [1, 2, 3, 4, 5, 6]
    assert positions(log(busy, "--type", "Inspection.Closed")) == []
    assert positions(log(busy, "--actor", "bob")) == [5, 6]
    barnet = inspection_id("barnet-2017")
    assert positions(log(busy, "--aggregate", barnet.hex[:8])) == [1, 2, 3, 4]
    assert positions(log(busy, "--aggregate", str(barnet)[:13].upper())) == [1, 2, 3, 4]
    assert positions(log(busy, "--actor", "bob", "--type", "Inspection.Opened")) == [5]


def test_log_filters_by_time_and_limit(busy: CLI) -> None:
    entries = log(busy)
    times = [datetime.fromisoformat(e["timestamp"]) for e in entries]
    since, until = entries[3]["timestamp"], entries[4]["timestamp"]
    assert positions(log(busy, "--since", since)) == [e["position"] for e, t in zip(entries, times) if t >= times[3]]
    assert positions(log(busy, "--until", until)) == [e["position"] for e, t in zip(entries, times) if t < times[4]]
    assert positions(log(busy, "--since", entries[1]["timestamp"], "--until", until)) == [
        e["position"] for e, t in zip(entries, times) if times[1] <= t < times[4]
    ]
    assert 4 in positions(log(busy, "--since", since)) and 5 not in positions(log(busy, "--until", until))
    assert positions(log(busy, "--since", "2000-01-01")) == [1, 2, 3, 4, 5, 6]
    assert positions(log(busy, "--until", "2000-01-01")) == []
    assert positions(log(busy, "--limit", "2")) == [5, 6]
    assert positions(log(busy, "--limit", "2", "--actor", "alice")) == [3, 4]
    assert positions(log(busy, "--limit", "100")) == [1, 2, 3, 4, 5, 6]


# --- projections and plugins ------------------------------------------------------------------------------


def test_projections_rebuild_gives_the_same_listing(busy: CLI) -> None:
    before = busy("inspection", "list", "--json")
    assert before.code == 0
    assert [i["reference"] for i in before.json()] == ["barnet-2017", "hackney-2018"]  # type: ignore[union-attr]
    rebuilt = busy("projections", "rebuild", "--json").json()
    assert isinstance(rebuilt, dict) and rebuilt["events"] == 6
    after = busy("inspection", "list", "--json")
    assert after.out == before.out
    status = busy("projections", "status", "--json").json()
    assert isinstance(status, list) and status and all(row["behind"] == 0 for row in status)


def test_plugins_all_lists_the_built_ins_as_json(cli: CLI) -> None:
    listed = cli("plugins", "--all").json()
    assert isinstance(listed, list)
    builtin = {p["name"] for p in listed if p["builtin"]}
    present = {name for name in DEFAULT_PLUGINS if importlib.util.find_spec(name) is not None}
    assert present and builtin == present
    assert all({"name", "builtin", "version", "hooks", "registered"} <= p.keys() for p in listed)
    assert all(isinstance(p["hooks"], list) and isinstance(p["registered"], dict) for p in listed)
    third_party = cli("plugins").json()
    assert isinstance(third_party, list) and not any(p["builtin"] for p in third_party)
