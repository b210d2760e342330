"""The contract every ledger storage backend must honour, as a pytest test class to subclass.

Usage, for the built-in backends or a third-party one::

    class TestMyBackend(LedgerContract):
        @pytest.fixture
        def url(self):
            return "mydb://..."        # a fresh, empty ledger location per test

        @pytest.fixture
        def ledger(self, url):
            ledger = Ledger(url, create=True)
            yield ledger
            ledger.close()

The suite checks the round trip of events, aggregate versions, optimistic concurrency (a typed, retryable
``Conflict`` that leaves the ledger unchanged), dense positions 1..N, history order, id prefixes, the hash
chain, the durability settings, and that the database itself refuses UPDATE, DELETE and TRUNCATE.
``raw_sql`` opens a plain connection beside the ledger (optionally with the append-only triggers bypassed,
for tamper tests); a third-party backend overrides ``LedgerContract.raw`` to supply its own.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from ledger import chain, events
from ledger.application import Ledger
from ledger.errors import Conflict, IntegrityViolation, NotFound
from ledger.events import Role
from ledger.inspection import Inspection, MemberJoined, Opened, Stage, StageEntered, open_inspection
from ledger.storage.url import parse

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

#: The PostgreSQL database the built-in tests use (each test gets its own schema in it).
POSTGRES_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

CHAIN_TABLE = "ledger_chain"


def fresh_url(kind: str, directory: str | os.PathLike[str]) -> str:
    """A new, empty ledger location: an SQLite file in ``directory`` or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        return f"sqlite:///{os.fspath(directory)}/ledger-{uuid.uuid4().hex[:8]}.db"
    if kind == "postgres":
        return f"{POSTGRES_URL}?schema=t_{uuid.uuid4().hex[:16]}"
    raise ValueError(f"Unknown test backend {kind!r}; use 'sqlite' or 'postgres'.")


def discard(url: str) -> None:
    """Remove what ``fresh_url`` made on PostgreSQL (SQLite files go with their temporary folder)."""
    db = parse(url)
    if db.kind != "postgresql":
        return
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(**_pg_params(url), autocommit=True) as conn:
        conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(db.schema)))


def _pg_params(url: str) -> dict[str, Any]:
    db = parse(url)
    return {"host": db.host, "port": db.port, "user": db.user, "password": db.password or None, "dbname": db.name}


class RawSQL:
    """A plain connection to a ledger's database, around the ledger (autocommit; ``?`` placeholders).

    SQL may name ``{events}``, ``{chain}`` and ``{key}`` (the column that orders the event table).
    """

    def __init__(self, url: str) -> None:
        db = parse(url)
        self.kind = db.kind
        self.chain_name = CHAIN_TABLE
        if db.kind == "sqlite":
            self.conn: Any = sqlite3.connect(db.path, isolation_level=None)
            self.events_name = "stored_events"
            self.names = {"events": self.events_name, "chain": CHAIN_TABLE, "key": "rowid"}
            self.error: tuple[type[Exception], ...] = (sqlite3.Error,)
        else:
            import psycopg

            self.conn = psycopg.connect(**_pg_params(url), autocommit=True)
            self.events_name = f"{Ledger.name.lower()}_events"
            schema = f'"{db.schema}"'
            self.names = {
                "events": f"{schema}.{self.events_name}", "chain": f"{schema}.{CHAIN_TABLE}", "key": "notification_id"
            }
            self.error = (psycopg.Error,)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; the rows it returns (bytes, not memoryviews; ids as 32 hex digits)."""
        text = sql.format(**self.names)
        if self.kind == "postgresql":
            text = text.replace("?", "%s")
        cursor = self.conn.execute(text, tuple(params))
        rows = cursor.fetchall() if cursor.description else []
        return [tuple(_plain(v) for v in row) for row in rows]

    def oid(self, hex_id: str) -> Any:
        """An aggregate id as the event table stores it (text on SQLite, uuid on PostgreSQL)."""
        return hex_id if self.kind == "sqlite" else uuid.UUID(hex_id)

    def refused(self) -> list[str]:
        """Statements the append-only triggers must refuse on this database."""
        out = []
        for table in ("{events}", "{chain}"):
            out += [
                f"UPDATE {table} SET topic = topic || 'x'",
                f"UPDATE {table} SET originator_version = originator_version + 1000",
                f"DELETE FROM {table} WHERE originator_version = 1",
                f"DELETE FROM {table}",
            ]
            if self.kind == "postgresql":
                out.append(f"TRUNCATE {table}")
        out.append("UPDATE {events} SET state = state || state")
        out.append("UPDATE {chain} SET digest = digest || digest")
        return out

    def close(self) -> None:
        self.conn.close()


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    return value


@contextlib.contextmanager
def raw_sql(url: str, *, bypass_triggers: bool = True) -> Iterator[RawSQL]:
    """A raw connection; with ``bypass_triggers`` the append-only triggers do not fire (tamper tests).

    SQLite has no per-session switch, so its triggers are dropped and re-created on exit; PostgreSQL uses
    ``session_replication_role = replica``, which affects this connection only.
    """
    raw = RawSQL(url)
    saved: list[str] = []
    try:
        if bypass_triggers and raw.kind == "sqlite":
            saved = [
                row[1]
                for row in raw.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (?, ?)",
                    (raw.events_name, raw.chain_name),
                )
            ]
            for (name,) in raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (?, ?)",
                (raw.events_name, raw.chain_name),
            ):
                raw.execute(f'DROP TRIGGER "{name}"')
        elif bypass_triggers:
            raw.execute("SET session_replication_role = replica")
        yield raw
    finally:
        for statement in saved:
            raw.execute(statement)
        raw.close()


def _join(ledger: Ledger, inspection: Inspection | uuid.UUID, person: str, version: int | None = None) -> MemberJoined:
    """A MemberJoined event for ``inspection`` (at ``version`` when given)."""
    event = ledger.event(
        MemberJoined, inspection, "lead", Role.LEAD, person=person, member_role=Role.INSPECTOR, display_name=person
    )
    return event if version is None else msgspec.structs.replace(event, originator_version=version)


def _opened(ledger: Ledger, originator_id: uuid.UUID, reference: str = "contract") -> Opened:
    return ledger.event(Opened, originator_id, "lead", Role.LEAD, reference=reference, authority="A", framework="f")


class LedgerContract:
    """The behaviour every backend must show. Needs fixtures ``url`` (fresh location) and ``ledger`` (created)."""

    @contextlib.contextmanager
    def raw(self, url: str, *, bypass_triggers: bool = False) -> Iterator[RawSQL]:
        """A raw connection to the backend's database (override for a third-party backend)."""
        with raw_sql(url, bypass_triggers=bypass_triggers) as raw:
            yield raw

    # --- appending and reading ---------------------------------------------------------------------

    def test_append_then_get_round_trip(self, ledger: Ledger) -> None:
        opened = open_inspection(ledger, "lead", "round-trip", authority="Barnet", framework="sif-2013")
        ledger.append(_join(ledger, opened, "bob"))
        state = ledger.get(Inspection, opened.id)
        assert (state.reference, state.authority, state.version) == ("round-trip", "Barnet", 2)
        assert state.members == {"lead": Role.LEAD, "bob": Role.INSPECTOR}
        assert ledger.get(Inspection, opened.id, version=1).members == {"lead": Role.LEAD}
        assert ledger.exists(opened.id)
        assert not ledger.exists(uuid.uuid4())

    def test_get_missing_aggregate_is_not_found(self, ledger: Ledger) -> None:
        with pytest.raises(NotFound, match="No inspection"):
            ledger.get(Inspection, uuid.uuid4(), what="inspection")

    def test_versions_count_from_one_per_aggregate(self, ledger: Ledger) -> None:
        a = open_inspection(ledger, "lead", "versions-a", authority="A", framework="f")
        b = open_inspection(ledger, "lead", "versions-b", authority="B", framework="f")
        ledger.append(_join(ledger, a, "p1"), _join(ledger, b, "q1"))
        ledger.append(_join(ledger, ledger.get(Inspection, a.id), "p2"))
        assert ledger.positions(a.id) == {1: 1, 2: 3, 3: 5}
        assert ledger.positions(b.id) == {1: 2, 2: 4}
        assert (ledger.get(Inspection, a.id).version, ledger.get(Inspection, b.id).version) == (3, 2)

    def test_same_version_twice_is_a_retryable_conflict(self, ledger: Ledger) -> None:
        opened = open_inspection(ledger, "lead", "conflict", authority="A", framework="f")
        ledger.append(_join(ledger, opened, "first"))
        head, before = ledger.head(), list(ledger.ledger_rows())
        with pytest.raises(Conflict) as raised:
            ledger.append(_join(ledger, opened, "second"))  # built from the stale state: version 2 again
        assert raised.value.retryable is True
        assert (ledger.head(), list(ledger.ledger_rows())) == (head, before)
        assert ledger.get(Inspection, opened.id).members.keys() == {"lead", "first"}
        assert ledger.verify() == 2

    def test_batch_with_one_conflict_appends_nothing(self, ledger: Ledger) -> None:
        opened = open_inspection(ledger, "lead", "batch", authority="A", framework="f")
        other = uuid.uuid4()
        with pytest.raises(Conflict):
            ledger.append(_opened(ledger, other, "fresh"), _join(ledger, opened.id, "dup", version=1))
        assert not ledger.exists(other)
        with pytest.raises(Conflict):
            ledger.append(_join(ledger, opened, "twin-a"), _join(ledger, opened, "twin-b"))
        assert ledger.last_position() == 1
        assert ledger.get(Inspection, opened.id).version == 1
        assert ledger.verify() == 1

    def test_appends_keep_working_after_many_conflicts(self, url: str, ledger: Ledger) -> None:
        """Two writers race on one inspection round after round, and each also appends to its own."""
        other = Ledger(url)
        writers = (ledger, other)
        try:
            shared = open_inspection(ledger, "lead", "shared", authority="A", framework="f")
            own = [open_inspection(ledger, "lead", f"own-{k}", authority="A", framework="f") for k in range(2)]
            for round_ in range(20):
                states = [w.get(Inspection, shared.id) for w in writers]
                ledger.append(_join(ledger, states[0], f"s{round_}"))
                with pytest.raises(Conflict):
                    other.append(_join(other, states[1], f"t{round_}"))
                for k, writer in enumerate(writers):
                    writer.append(_join(writer, writer.get(Inspection, own[k].id), f"o{round_}-{k}"))
        finally:
            other.close()
        assert ledger.last_position() == 3 + 20 * 3
        assert ledger.verify() == 63

    def test_positions_stay_dense_after_conflicts(self, ledger: Ledger) -> None:
        opened = open_inspection(ledger, "lead", "dense", authority="A", framework="f")
        for n in range(3):
            with pytest.raises(Conflict):
                ledger.append(_join(ledger, opened.id, f"clash-{n}", version=1))
            ledger.append(_join(ledger, ledger.get(Inspection, opened.id), f"ok-{n}"))
        positions = [row[0] for row in ledger.ledger_rows()]
        assert positions == [1, 2, 3, 4]
        assert ledger.last_position() == 4
        assert ledger.verify() == 4

    def test_history_is_in_append_order_and_decodes_equal(self, ledger: Ledger) -> None:
        ids = [uuid.uuid4() for _ in range(5)]
        appended: list[events.Event] = []
        for n, originator in enumerate(ids):
            stage = ledger.event(StageEntered, originator, "lead", Role.LEAD, stage=Stage.FIELDWORK)
            batch = [
                _opened(ledger, originator, f"h-{n}"),
                _join(ledger, originator, f"m-{n}", version=2),
                msgspec.structs.replace(stage, originator_version=3),
            ]
            ledger.append(*batch)
            appended += batch
        history = list(ledger.history())
        assert [p for p, _ in history] == list(range(1, 16))
        assert [e for _, e in history] == appended
        assert [e for _, e in ledger.history(after=4, stop=9)] == appended[4:9]
        rows = list(ledger.ledger_rows(batch=4))
        assert [(r[1], r[2], r[3]) for r in rows] == [
            (e.originator_id.hex, e.originator_version, type(e).TOPIC) for e in appended
        ]
        assert [events.decode(r[3], ledger.mapper_state(r[4])) for r in rows] == appended

    def test_a_second_instance_sees_the_same_log(self, url: str, ledger: Ledger) -> None:
        open_inspection(ledger, "lead", "shared-view", authority="A", framework="f")
        other = Ledger(url)
        try:
            assert other.last_position() == 1
            assert other.head() == ledger.head()
            open_inspection(other, "lead", "from-other", authority="A", framework="f")
        finally:
            other.close()
        assert [type(e).TOPIC for _, e in ledger.history()] == ["Inspection.Opened"] * 2
        assert ledger.verify() == 2

    # --- id prefixes ---------------------------------------------------------------------------------

    def _prefixed(self, ledger: Ledger) -> list[uuid.UUID]:
        ids = [uuid.UUID("abcd1234" + uuid.uuid4().hex[8:]), uuid.UUID("abcd5678" + uuid.uuid4().hex[8:])]
        ledger.append(*(_opened(ledger, i, f"prefix-{n}") for n, i in enumerate(ids)))
        return ids

    def test_resolve_unique_prefix(self, ledger: Ledger) -> None:
        ids = self._prefixed(ledger)
        topics = [Opened.TOPIC]
        assert ledger.resolve("abcd1", topics, "inspection") == ids[0]
        assert ledger.resolve("ABCD-5678", topics, "inspection") == ids[1]
        assert ledger.resolve(ids[0].hex, topics, "inspection") == ids[0]
        assert ledger.resolve(str(ids[1]), topics, "inspection") == ids[1]

    def test_resolve_ambiguous_prefix(self, ledger: Ledger) -> None:
        self._prefixed(ledger)
        with pytest.raises(NotFound, match="several"):
            ledger.resolve("abcd", [Opened.TOPIC], "inspection")

    def test_resolve_missing_prefix_or_other_topic(self, ledger: Ledger) -> None:
        ids = self._prefixed(ledger)
        with pytest.raises(NotFound, match="No inspection"):
            ledger.resolve("ffff0000", [Opened.TOPIC], "inspection")
        with pytest.raises(NotFound, match="No source"):
            ledger.resolve(ids[0].hex[:8], ["Source.Registered"], "source")

    @pytest.mark.parametrize("prefix", ["", "abc", "xyz1", "abcd!", "g123456", "  "])
    def test_resolve_malformed_prefix(self, ledger: Ledger, prefix: str) -> None:
        self._prefixed(ledger)
        with pytest.raises(NotFound, match="at least 4 hex digits"):
            ledger.resolve(prefix, [Opened.TOPIC], "inspection")

    # --- the chain -----------------------------------------------------------------------------------

    def test_verify_counts_a_clean_ledger(self, ledger: Ledger) -> None:
        assert ledger.verify() == 0
        assert ledger.head() == (0, chain.GENESIS)
        for n in range(4):
            opened = open_inspection(ledger, "lead", f"clean-{n}", authority="A", framework="f")
            ledger.append(*(_join(ledger, opened.id, f"p{k}", version=k + 2) for k in range(n + 1)))
        assert ledger.verify() == ledger.last_position() == 14

    def test_head_is_the_chain_recomputed_from_the_rows(self, ledger: Ledger) -> None:
        opened = open_inspection(ledger, "lead", "recompute", authority="A", framework="f")
        ledger.append(*(_join(ledger, opened.id, f"p{k}", version=k + 2) for k in range(6)))
        digest = chain.GENESIS
        for position, oid, version, topic, state in ledger.ledger_rows():
            digest = chain.link(digest, position, oid, version, topic, state)
        assert ledger.head() == (7, digest)

    @pytest.mark.parametrize("read", ["select_chain", "select_event_rows"])
    def test_verify_during_a_concurrent_append(self, url: str, ledger: Ledger, read: str, monkeypatch: Any) -> None:
        """An append that commits while verify walks the tables is not tampering."""
        open_inspection(ledger, "lead", "race-1", authority="A", framework="f")
        writer = Ledger(url)
        original = getattr(ledger.recorder, read)
        raced: list[int] = []

        def racing(*args: Any, **kwargs: Any) -> list[Any]:
            if not raced:
                raced.append(1)
                open_inspection(writer, "lead", "race-2", authority="A", framework="f")
            return original(*args, **kwargs)

        monkeypatch.setattr(ledger.recorder, read, racing)
        try:
            assert ledger.verify() in (1, 2)
        finally:
            writer.close()
        assert raced == [1]
        assert ledger.verify() == 2

    # --- the database enforces append-only -----------------------------------------------------------

    def test_database_refuses_update_delete_truncate(self, url: str, ledger: Ledger) -> None:
        opened = open_inspection(ledger, "lead", "append-only", authority="A", framework="f")
        ledger.append(_join(ledger, opened, "bob"))
        before = list(ledger.ledger_rows())
        with self.raw(url) as raw:
            statements = raw.refused()
            for statement in statements:
                with pytest.raises(raw.error, match="append-only"):
                    raw.execute(statement)
        assert len(statements) >= 10
        assert list(ledger.ledger_rows()) == before
        assert ledger.verify() == 2

    def test_durability_settings(self, ledger: Ledger) -> None:
        settings = ledger.recorder.check_settings()
        if ledger.database.kind == "sqlite":
            assert settings["journal_mode"] == "wal"
            assert settings["synchronous"] in ("full", "extra")
        else:
            assert settings["lock_timeout"] not in ("", "0", "0s")
            assert settings["idle_in_transaction_session_timeout"] not in ("", "0", "0s")


def check_integrity(ledger: Ledger) -> int:
    """Assert positions exactly 1..N, gapless versions per aggregate and a verifying chain; returns N."""
    n = ledger.last_position()
    versions: dict[str, list[int]] = {}
    positions = []
    for position, oid, version, _, _ in ledger.ledger_rows():
        positions.append(position)
        versions.setdefault(oid, []).append(version)
    assert positions == list(range(1, n + 1))
    for oid, found in versions.items():
        assert found == list(range(1, len(found) + 1)), f"aggregate {oid[:8]} has versions {found}"
    try:
        assert ledger.verify() == n
    except IntegrityViolation as error:
        raise AssertionError(f"verify failed at position {error.position}: {error}") from None
    return n
