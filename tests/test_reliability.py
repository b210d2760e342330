"""Reliability promises R4, R5, R13, R14 and R16 (see docs/reliability.md): each test can fail.

Kills are real SIGKILLs of real processes at random moments (the seed is in every failure message); locks
are held by real second connections. Lock timeouts are shortened for the tests through eventsourcing's
application-prefixed variables (``EVIDENCELEDGER_SQLITE_LOCK_TIMEOUT``...), which win over the ledger's own.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ledger.application import Ledger
from ledger.errors import Busy, StorageError
from ledger.events import Role
from ledger.inspection import add_member, load, open_inspection
from ledger.safety import check_durability
from ledger.source import Kind, NewSource, register
from ledger.storage.url import parse
from ledger.testing import backends

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import CLI

REPO = Path(__file__).resolve().parents[1]
#: How long a test waits for something that must end before calling it a hang (far beyond every timeout).
HANG = 60.0


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: this one's, without EVIDENCE_* settings, importing from the repo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    return env | {"PYTHONPATH": str(REPO)} | (extra or {})


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return backends.fresh_url("sqlite", tmp_path)


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    url = backends.fresh_url("postgres", tmp_path)
    yield url
    backends.discard(url)


def _create(url: str, reference: str = "reliability-2026") -> Ledger:
    """A new ledger at ``url`` holding one open inspection led by 'lead'."""
    ledger = Ledger(url, create=True)
    open_inspection(ledger, "lead", reference, authority="Test Borough", framework="sif-2013")
    return ledger


def _populate(ledger: Ledger, sources: int, reference: str = "reliability-2026") -> int:
    """Fill a ledger with members and sources (batches of 40); returns its last position."""
    for n in range(5):
        add_member(ledger, "lead", reference, f"inspector-{n}", Role.INSPECTOR)
    inspection = load(ledger, reference)
    items = [
        NewSource(title=f"Case note {n}", text=f"Case note {n}: the social worker visited on day {n % 28 + 1}.",
                  kind=Kind.CASE_RECORD, filename=f"n{n}.txt")
        for n in range(sources)
    ]
    for start in range(0, sources, 40):
        register(ledger, "lead", inspection, items[start:start + 40])
    return ledger.last_position()


# --- R13: unsafe configuration is refused -----------------------------------------------------------------


def test_r13_safe_configuration_is_accepted(ledger: Ledger) -> None:
    check_durability(ledger)
    assert ledger.last_position() == 0  # still open and usable


def test_r13_sqlite_not_in_wal_is_refused(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file left in rollback-journal mode, where the switch to WAL on opening did not happen, is refused."""
    from eventsourcing.sqlite import SQLiteConnectionPool

    _create(sqlite_url).close()
    with contextlib.closing(sqlite3.connect(parse(sqlite_url).path, isolation_level=None)) as raw:
        assert raw.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    create_connection = SQLiteConnectionPool._create_connection

    def without_wal_switch(pool: SQLiteConnectionPool) -> Any:
        pool.is_journal_mode_wal = True  # as if the switch had been made (or had silently failed)
        return create_connection(pool)

    monkeypatch.setattr(SQLiteConnectionPool, "_create_connection", without_wal_switch)
    with pytest.raises(StorageError, match="journal_mode is delete") as refused:
        ledger = Ledger(sqlite_url)  # refuses here once Ledger.__init__ calls check_durability
        check_durability(ledger)
    assert len(str(refused.value).splitlines()) == 1
    monkeypatch.undo()
    safe = Ledger(sqlite_url)  # eventsourcing switches the file back to WAL on opening
    try:
        check_durability(safe)
        assert safe.verify() == 1
    finally:
        safe.close()


def test_r13_sqlite_without_full_sync_is_refused(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """synchronous is per connection (the recorder sets FULL on each); here a connection really runs NORMAL."""
    ledger = _create(sqlite_url)
    datastore = ledger.recorder.datastore

    def relaxed_settings() -> dict[str, str]:
        with datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            sync = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.sqlite_cursor.close()
        return {"journal_mode": mode, "synchronous": {0: "off", 1: "normal"}.get(sync, str(sync))}

    monkeypatch.setattr(ledger.recorder, "check_settings", relaxed_settings)
    with pytest.raises(StorageError, match="synchronous is normal"):
        check_durability(ledger)


@pytest.mark.parametrize(
    ("variable", "complaint"),
    [("POSTGRES_LOCK_TIMEOUT", "no lock timeout"),
     ("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "no idle-in-transaction timeout")],
)
def test_r13_postgres_without_timeouts_is_refused(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, variable: str, complaint: str
) -> None:
    _create(pg_url).close()
    monkeypatch.setenv(f"EVIDENCELEDGER_{variable}", "0")
    with pytest.raises(StorageError, match=complaint) as refused:
        ledger = Ledger(pg_url)  # refuses here once Ledger.__init__ calls check_durability
        check_durability(ledger)
    assert "configured unsafely" in str(refused.value)
    monkeypatch.delenv(f"EVIDENCELEDGER_{variable}")
    safe = Ledger(pg_url)
    try:
        check_durability(safe)
        assert safe.last_position() == 1
    finally:
        safe.close()


# --- R16: a hung writer cannot block others ---------------------------------------------------------------


def _append_while_locked(url: str, monkeypatch: pytest.MonkeyPatch, hold: Any, release: Any) -> None:
    """With the write lock held elsewhere, an append ends in a retryable Busy (not a wait); then it succeeds."""
    kind = "SQLITE" if url.startswith("sqlite") else "POSTGRES"
    monkeypatch.setenv(f"EVIDENCELEDGER_{kind}_LOCK_TIMEOUT", "1")
    _create(url).close()
    writer = Ledger(url)
    # One attempt at the lock per append: a retry loop inside the recorder would wait many timeouts in silence.
    attempt = "insert_events" if kind == "SQLITE" else "_lock_table"
    original = getattr(writer.recorder, attempt)
    attempts: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(writer.recorder, attempt, counted)
    try:
        before = writer.last_position()
        hold()
        try:
            with ThreadPoolExecutor(1) as pool:
                failure = pool.submit(add_member, writer, "lead", "reliability-2026", "zed", Role.INSPECTOR)
                error = failure.exception(timeout=HANG)  # a TimeoutError here is the silent wait R16 forbids
        finally:
            release()
        assert isinstance(error, Busy), repr(error)
        assert error.retryable is True
        assert len(attempts) == 1, f"the recorder tried the lock {len(attempts)} times before giving up"
        assert len(str(error).splitlines()) == 1
        assert writer.last_position() == before
        add_member(writer, "lead", "reliability-2026", "zed", Role.INSPECTOR)
        assert writer.verify() == before + 1
    finally:
        writer.close()


def test_r16_sqlite_held_write_lock_gives_busy(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = sqlite3.connect(parse(sqlite_url).path, isolation_level=None)
    try:
        _append_while_locked(
            sqlite_url, monkeypatch, lambda: holder.execute("BEGIN IMMEDIATE"), lambda: holder.execute("ROLLBACK")
        )
    finally:
        holder.close()


def test_r16_postgres_locked_events_table_gives_busy(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg
    from psycopg.sql import SQL, Identifier

    db = parse(pg_url)
    holder = psycopg.connect(host=db.host, port=db.port, user=db.user, password=db.password or None, dbname=db.name)
    table = SQL("{}.{}").format(Identifier(db.schema), Identifier(f"{Ledger.name.lower()}_events"))
    try:
        _append_while_locked(
            pg_url, monkeypatch,
            lambda: holder.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table)),
            holder.rollback,
        )
    finally:
        holder.close()


# --- R4: projections are exactly-once ---------------------------------------------------------------------

PROJECTOR = """
import sys
import projections.base as base
from ledger.application import Ledger
from projections import ready

base.BATCH_SIZE = int(sys.argv[2])
commit = base._commit

def traced(engine, projections, batch):
    commit(engine, projections, batch)
    print(batch[-1][0], flush=True)

base._commit = traced
ready(Ledger(sys.argv[1]))
print("done", flush=True)
"""


def _tables(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection table's full contents (and the tracking table), in a stable order."""
    from sqlalchemy import select

    from projections.base import metadata

    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def _slowest(url: str) -> int:
    """The position of the projection furthest behind (0 before the projector has made its tables)."""
    from sqlalchemy import inspect, select

    from projections.base import tracking
    from projections.engine import engine_for

    engine = engine_for(url)
    if not inspect(engine).has_table(tracking.name):
        return 0
    with engine.connect() as conn:
        return min(conn.execute(select(tracking.c.position)).scalars(), default=0)


def test_r4_projector_killed_at_random_points_equals_rebuild(url: str) -> None:
    from projections import all_projections, ready
    from projections.base import rebuild

    ledger = _create(url)
    head = _populate(ledger, 1000)
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    kills: list[int] = []  # how far the slowest projection had got after each kill
    while len(kills) < 20 and sum(0 < k < head for k in kills) < 5:
        child = subprocess.Popen(
            [sys.executable, "-c", PROJECTOR, url, "4"], stdout=subprocess.PIPE, text=True, env=_env(), cwd=REPO
        )
        assert child.stdout is not None
        commits = rng.randint(0, 3)
        if commits == 0:
            time.sleep(rng.uniform(0.0, 0.5))  # somewhere in start-up, table creation or the first batch
        for _ in range(commits):
            if child.stdout.readline().strip() in ("done", ""):
                break
        time.sleep(rng.uniform(0.0, 0.005))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=HANG)
        child.stdout.close()
        kills.append(_slowest(url))
        if kills[-1] == head:
            break
    assert sum(0 < k < head for k in kills) >= 3, f"seed {seed}: too few kills landed mid-way ({kills} of {head})"
    engine = ready(ledger)
    caught_up = _tables(engine)
    rebuild(ledger, engine, all_projections())
    rebuilt = _tables(engine)
    assert caught_up.keys() == rebuilt.keys()
    for name in rebuilt:
        assert caught_up[name] == rebuilt[name], f"seed {seed}: {name} differs from a rebuild (kills at {kills})"
    assert len(rebuilt["projection_tracking"]) >= 2
    assert {row[2] for row in rebuilt["projection_tracking"]} == {head}
    ledger.close()


# --- R5: an import is all-or-none and idempotent ----------------------------------------------------------


def _registered(url: str) -> list[str]:
    """The ids of every registered source, in ledger order."""
    ledger = Ledger(url)
    try:
        assert ledger.verify() == ledger.last_position()
        return [event.originator_id.hex for _, event in ledger.history() if type(event).TOPIC == "Source.Registered"]
    finally:
        ledger.close()


def _import_time(command: list[str], folder: Path, env: dict[str, str]) -> float:
    """How long the same import takes, unkilled, into a ledger of its own (where to aim the kills)."""
    folder.mkdir()
    for args in (["init", "--user", "alice"], ["inspection", "open", "barnet-2017", "--authority", "Barnet"]):
        subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=folder, env=env, check=True,
                       capture_output=True, timeout=HANG)
    started = time.monotonic()
    subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True, timeout=HANG)
    return time.monotonic() - started


def test_r5_killed_import_is_all_or_none_then_exactly_once(team: CLI, tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    files = []
    for n in range(300):
        path = folder / f"interview-{n:03d}.txt"
        path.write_text(f"Interview {n}\n" + f"Line {n}: the child said the plan was explained to them.\n" * 200)
        files.append(str(path))
    command = [sys.executable, "-m", "cli.main", "-i", "barnet-2017", "source", "add", "--kind", "interview", *files]
    env = _env({"EVIDENCE_USER": "alice"})
    seed = random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    span = _import_time(command, tmp_path / "calibration", env)
    outcomes = []
    for _ in range(8):  # kill anywhere in the command's run, until one run has committed
        child = subprocess.Popen(command, cwd=team.cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 0.7 * span))  # runs vary; most kills must land before the end
        finished = child.poll() is not None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=HANG)
        found = _registered(team.url)
        assert len(found) in (0, len(files)), f"seed {seed}: a killed import left {len(found)} of {len(files)}"
        assert len(set(found)) == len(found)
        outcomes.append((finished, len(found)))
        if found:
            break
    assert any(not finished for finished, _ in outcomes), f"seed {seed}: every import ended before its kill"
    done = team.subprocess("-i", "barnet-2017", "source", "add", "--kind", "interview", *files,
                           env={"EVIDENCE_USER": "alice"})
    assert done.code == 0, done.err
    found = _registered(team.url)
    assert len(found) == len(set(found)) == len(files), f"seed {seed}: {outcomes}"
    head = team.count()
    again = team("-i", "barnet-2017", "source", "add", "--kind", "interview", *files, env={"EVIDENCE_USER": "alice"})
    assert again.code == 0, again.err
    assert again.out.count("already registered") == len(files)
    assert team.count() == head
    assert _registered(team.url) == found


# --- R14: backups restore and verify ----------------------------------------------------------------------

APPENDER = """
import sys
from pathlib import Path
from ledger.application import Ledger
from ledger.inspection import open_inspection

ledger = Ledger(sys.argv[1])
stop = Path(sys.argv[2])
n = 0
while not stop.exists():
    open_inspection(ledger, "alice", f"load-{n}", authority="Load Borough", framework="sif-2013")
    n += 1
    print(n, flush=True)
ledger.close()
"""


@pytest.fixture
def backup_cli(cli: CLI, monkeypatch: pytest.MonkeyPatch) -> CLI:
    """The CLI with ``evidence backup`` registered (as cli/main.py COMMANDS will list it)."""
    from cli import main

    monkeypatch.setitem(main.COMMANDS, "backup", "cli.backup:backup")
    return cli


def _wait_for_growth(url: str, beyond: int) -> int:
    """Wait until the ledger holds more than ``beyond`` events (the appender is running); returns the count."""
    ledger = Ledger(url)
    try:
        deadline = time.monotonic() + HANG
        while (count := ledger.last_position()) <= beyond:
            assert time.monotonic() < deadline, "the appending process made no progress"
            time.sleep(0.01)
        return count
    finally:
        ledger.close()


def test_r14_sqlite_backup_under_load_restores_and_verifies(backup_cli: CLI, tmp_path: Path) -> None:
    cli = backup_cli
    assert cli("init", "--user", "alice").code == 0
    stop = tmp_path / "stop"
    appender = subprocess.Popen(
        [sys.executable, "-c", APPENDER, cli.url, str(stop)], stdout=subprocess.DEVNULL, env=_env(), cwd=REPO
    )
    try:
        before = _wait_for_growth(cli.url, 5)
        result = cli("backup", str(tmp_path / "copy.db"), "--json")
        after = _wait_for_growth(cli.url, cli.count())
    finally:
        stop.touch()
        appender.wait(timeout=HANG)
    assert appender.returncode == 0
    report = result.json()
    assert isinstance(report, dict)
    assert before <= report["events"] < after, (before, report, after)
    assert not (tmp_path / "copy.db.partial").exists()
    copy = Ledger(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        check_durability(copy)
        assert copy.verify() == copy.last_position() == report["events"]
        assert [row[:4] for row in copy.ledger_rows()] == [row[:4] for row in _rows(cli.url, report["events"])]
    finally:
        copy.close()


def _rows(url: str, stop: int) -> list[tuple[Any, ...]]:
    ledger = Ledger(url)
    try:
        return list(ledger.ledger_rows(stop=stop))
    finally:
        ledger.close()


def test_r14_backup_refuses_an_existing_file(backup_cli: CLI, tmp_path: Path) -> None:
    cli = backup_cli
    assert cli("init", "--user", "alice").code == 0
    target = tmp_path / "taken.db"
    target.write_bytes(b"something else")
    line = cli("backup", str(target)).one_line_error()
    assert "exists already" in line
    assert target.read_bytes() == b"something else"


def test_r14_postgres_dump_restores_and_verifies(backup_cli: CLI, pg_url: str, tmp_path: Path) -> None:
    import psycopg

    source = _create(pg_url)
    head = _populate(source, 50)
    source.close()
    dump = tmp_path / "ledger.dump"
    result = backup_cli("backup", str(dump), env={"EVIDENCE_LEDGER_URL": pg_url})
    assert result.code == 0, result.err
    db = parse(pg_url)
    restored_db = f"restore_{os.getpid()}_{random.randrange(10**9)}"
    admin = psycopg.connect(host=db.host, port=db.port, user=db.user, password=db.password or None,
                            dbname=db.name, autocommit=True)
    admin.execute(f'CREATE DATABASE "{restored_db}"')
    try:
        done = subprocess.run(
            ["pg_restore", "--no-owner", f"--host={db.host}", f"--port={db.port}", f"--username={db.user}",
             f"--dbname={restored_db}", str(dump)],
            capture_output=True, text=True, timeout=HANG, check=False,
        )
        assert done.returncode == 0, done.stderr
        restored = Ledger(f"postgresql://{db.user}@{db.host}:{db.port}/{restored_db}?schema={db.schema}")
        try:
            check_durability(restored)
            assert restored.verify() == restored.last_position() == head
        finally:
            restored.close()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored_db}" WITH (FORCE)')
        admin.close()


def test_r14_postgres_without_pg_dump_says_so(
    backup_cli: CLI, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(pg_url).close()
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
    line = backup_cli("backup", str(tmp_path / "x.dump"), env={"EVIDENCE_LEDGER_URL": pg_url}).one_line_error()
    assert "pg_dump is not on PATH" in line
    assert not (tmp_path / "x.dump").exists()
