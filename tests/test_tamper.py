"""Tampering is detected (RELIABILITY R6): random mutations of a 2,000-event ledger stop ``verify`` at the
first bad position, and ``evidence verify`` exits non-zero naming it.

SQLite: each mutation runs on a copy of the pristine file (sqlite3 backup API). PostgreSQL: each mutation is
applied to the one pristine schema, verified, then undone exactly (both tables restored from byte-for-byte
copies kept beside them) and verified clean again. Truncating the tail, or rewriting every later digest, is not
detectable from the database alone: an exported checkpoint covers those, and the tests below say so.
"""

from __future__ import annotations

import random
import re
import sqlite3
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from ledger import chain
from ledger.application import Ledger
from ledger.errors import IntegrityViolation
from ledger.events import Role
from ledger.inspection import MemberJoined, Opened, Stage, StageEntered
from ledger.storage.url import parse
from ledger.testing.backends import RawSQL, discard, fresh_url, raw_sql

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from conftest import CLI

INSPECTIONS = 20
ROUNDS = 100  # each round appends one event to every inspection: 2,000 events
EVENTS = INSPECTIONS * ROUNDS


class Pristine(msgspec.Struct):
    url: str
    head: tuple[int, bytes]
    keys: list[int]  # the event table's ordering key at each ledger position (index = position - 1)


def build(url: str) -> tuple[int, bytes]:
    """Append 2,000 events (20 inspections, interleaved; varied payloads) in 100 batches."""
    ledger = Ledger(url, create=True)
    rng = random.Random(2017)
    ids = [uuid.uuid4() for _ in range(INSPECTIONS)]
    try:
        for version in range(1, ROUNDS + 1):
            batch = []
            for n, oid in enumerate(ids):
                if version == 1:
                    event: Any = ledger.event(
                        Opened, oid, "lead", Role.LEAD, reference=f"tamper-{n:02d}", authority="Ångström Borough",
                        framework="sif-2013",
                    )
                elif version % 25 == 0:
                    event = ledger.event(StageEntered, oid, "lead", Role.LEAD, stage=rng.choice(list(Stage)))
                else:
                    person = f"p{version}-{n}"
                    name = "".join(rng.choice("abcdéøß“”😀 ") for _ in range(rng.randint(1, 40)))
                    event = ledger.event(
                        MemberJoined, oid, "lead", Role.LEAD, person=person,
                        member_role=rng.choice(list(Role)), display_name=name,
                    )
                batch.append(msgspec.structs.replace(event, originator_version=version))
            ledger.append(*batch)
        assert ledger.verify() == EVENTS
        return ledger.head()
    finally:
        ledger.close()


def event_keys(url: str) -> list[int]:
    with raw_sql(url, bypass_triggers=False) as raw:
        return [row[0] for row in raw.execute("SELECT {key} FROM {events} ORDER BY {key}")]


# --- mutations: each changes the stored log and returns the first position verify must report -------------


def _pick(rng: random.Random, n: int) -> int:
    roll = rng.random()
    return 1 if roll < 0.1 else n if roll < 0.2 else rng.randint(1, n)


def _two(rng: random.Random, n: int) -> tuple[int, int]:
    p, q = sorted(rng.sample(range(1, n + 1), 2))
    return p, q


def _event(raw: RawSQL, key: int) -> tuple[Any, ...]:
    return raw.execute("SELECT originator_id, originator_version, topic, state FROM {events} WHERE {key} = ?", (key,))[0]


def _set_event(raw: RawSQL, key: int, column: str, value: Any) -> None:
    raw.execute(f"UPDATE {{events}} SET {column} = ? WHERE {{key}} = ?", (value, key))


def flip_payload_byte(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    state = _event(raw, keys[p - 1])[3]
    i = rng.randrange(len(state))
    _set_event(raw, keys[p - 1], "state", state[:i] + bytes([state[i] ^ rng.randint(1, 255)]) + state[i + 1 :])
    return p


def rewrite_payload_field(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    """A plausible edit: the payload stays valid JSON, with another actor, time or role."""
    p = _pick(rng, len(keys))
    state = msgspec.json.decode(_event(raw, keys[p - 1])[3])
    field = rng.choice(["actor", "timestamp", "role"])
    state[field] = {"actor": "mallory", "timestamp": "2017-01-01T00:00:00Z", "role": "auditor"}[field]
    _set_event(raw, keys[p - 1], "state", msgspec.json.encode(state))
    return p


def change_event_id(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    _set_event(raw, keys[p - 1], "originator_id", raw.oid(uuid.UUID(int=rng.getrandbits(128)).hex))
    return p


def change_event_version(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    _set_event(raw, keys[p - 1], "originator_version", _event(raw, keys[p - 1])[1] + rng.randint(1000, 10**6))
    return p


def change_event_topic(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    topic = _event(raw, keys[p - 1])[2]
    others = [t for t in ("Inspection.Opened", "Inspection.MemberJoined", "Inspection.StageEntered") if t != topic]
    _set_event(raw, keys[p - 1], "topic", rng.choice([*others, topic + " ", topic.lower()]))
    return p


def delete_event(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    raw.execute("DELETE FROM {events} WHERE {key} = ?", (keys[p - 1],))
    return p


def delete_chain_row(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    raw.execute("DELETE FROM {chain} WHERE position = ?", (p,))
    return p


def swap_payloads(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p, q = _two(rng, len(keys))
    a, b = _event(raw, keys[p - 1])[3], _event(raw, keys[q - 1])[3]
    _set_event(raw, keys[p - 1], "state", b)
    _set_event(raw, keys[q - 1], "state", a)
    return p


def _put_event(raw: RawSQL, key: int, row: tuple[Any, ...]) -> None:
    raw.execute(
        "INSERT INTO {events} ({key}, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
        (key, raw.oid(row[0]), *row[1:]),
    )


def reorder_events(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    """Two whole event rows trade places in the table's order."""
    p, q = _two(rng, len(keys))
    a, b = _event(raw, keys[p - 1]), _event(raw, keys[q - 1])
    raw.execute("DELETE FROM {events} WHERE {key} IN (?, ?)", (keys[p - 1], keys[q - 1]))
    _put_event(raw, keys[p - 1], b)
    _put_event(raw, keys[q - 1], a)
    return p


def insert_event(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    """A forged row (a copy of a real one under a new id) slipped in at position p, or appended at N + 1."""
    n = len(keys)
    p = rng.choice([n + 1, rng.randint(1, n + 1), rng.randint(1, n)])
    source = _event(raw, keys[rng.randrange(n)])
    forged = (uuid.UUID(int=rng.getrandbits(128)).hex, 1, source[2], source[3])
    if p <= n:
        at = keys[p - 1]
        raw.execute("UPDATE {events} SET {key} = {key} + 10000000 WHERE {key} >= ?", (at,))
        raw.execute("UPDATE {events} SET {key} = {key} - 9999999 WHERE {key} >= ?", (at + 10000000,))
    else:
        at = keys[-1] + 1
    _put_event(raw, at, forged)
    return p


def change_chain_digest(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    digest = raw.execute("SELECT digest FROM {chain} WHERE position = ?", (p,))[0][0]
    i = rng.randrange(len(digest))
    changed = digest[:i] + bytes([digest[i] ^ (1 << rng.randrange(8))]) + digest[i + 1 :]
    raw.execute("UPDATE {chain} SET digest = ? WHERE position = ?", (changed, p))
    return p


def change_chain_entry(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    p = _pick(rng, len(keys))
    column, value = rng.choice(
        [
            ("originator_id", uuid.UUID(int=rng.getrandbits(128)).hex),
            ("originator_version", 10**6 + rng.randint(0, 10**6)),
            ("topic", "Inspection.Closed"),
        ]
    )
    raw.execute(f"UPDATE {{chain}} SET {column} = ? WHERE position = ?", (value, p))
    return p


def reorder_chain(raw: RawSQL, rng: random.Random, keys: list[int]) -> int:
    """Two chain entries trade places (each keeps its position number)."""
    p, q = _two(rng, len(keys))
    select = "SELECT originator_id, originator_version, topic, digest FROM {chain} WHERE position = ?"
    a, b = raw.execute(select, (p,))[0], raw.execute(select, (q,))[0]
    raw.execute("DELETE FROM {chain} WHERE position IN (?, ?)", (p, q))
    insert = "INSERT INTO {chain} (position, originator_id, originator_version, topic, digest) VALUES (?, ?, ?, ?, ?)"
    raw.execute(insert, (p, *b))
    raw.execute(insert, (q, *a))
    return p


MUTATIONS: tuple[Callable[[RawSQL, random.Random, list[int]], int], ...] = (
    flip_payload_byte,
    rewrite_payload_field,
    change_event_id,
    change_event_version,
    change_event_topic,
    delete_event,
    delete_chain_row,
    swap_payloads,
    reorder_events,
    insert_event,
    change_chain_digest,
    change_chain_entry,
    reorder_chain,
)
SQLITE_RUNS = 16 * len(MUTATIONS)  # 208 mutations on SQLite
POSTGRES_RUNS = 5 * len(MUTATIONS)  # 65 on PostgreSQL
CLI_EVERY = 10  # also run `evidence verify` on every tenth mutation


def _cases(runs: int) -> list[Any]:
    return [pytest.param(seed, id=f"{MUTATIONS[seed % len(MUTATIONS)].__name__}-{seed}") for seed in range(runs)]


def names_position(message: str, position: int) -> bool:
    return re.search(rf"\bposition {position}\b", message) is not None


def assert_detected(ledger: Ledger, expected: int) -> None:
    with pytest.raises(IntegrityViolation) as raised:
        ledger.verify()
    assert raised.value.position == expected, str(raised.value)


def assert_cli_detects(cli: CLI, url: str, expected: int) -> None:
    result = cli("verify", env={"EVIDENCE_LEDGER_URL": url})
    line = result.one_line_error()
    assert result.code == IntegrityViolation.exit_code
    assert names_position(line, expected), line


# --- SQLite: a copy of the pristine file per mutation ----------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_pristine(tmp_path_factory: pytest.TempPathFactory) -> Pristine:
    url = fresh_url("sqlite", tmp_path_factory.mktemp("tamper-sqlite"))
    head = build(url)
    return Pristine(url=url, head=head, keys=event_keys(url))


def copy_sqlite(pristine: Pristine, directory: Path) -> str:
    target = directory / "copy.db"
    source, dest = sqlite3.connect(parse(pristine.url).path), sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        source.close()
        dest.close()
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_copy(sqlite_pristine: Pristine, tmp_path: Path) -> Iterator[tuple[str, Ledger]]:
    url = copy_sqlite(sqlite_pristine, tmp_path)
    ledger = Ledger(url)
    yield url, ledger
    ledger.close()


def test_the_pristine_ledger_is_large_and_clean(sqlite_copy: tuple[str, Ledger], sqlite_pristine: Pristine) -> None:
    _, ledger = sqlite_copy
    assert ledger.verify() == ledger.last_position() == EVENTS >= 2000
    assert ledger.head() == sqlite_pristine.head
    assert sqlite_pristine.keys == list(range(1, EVENTS + 1))


@pytest.mark.parametrize("seed", _cases(SQLITE_RUNS))
def test_sqlite_mutation_is_detected(
    seed: int, sqlite_copy: tuple[str, Ledger], sqlite_pristine: Pristine, cli: CLI
) -> None:
    url, ledger = sqlite_copy
    with raw_sql(url) as raw:
        expected = MUTATIONS[seed % len(MUTATIONS)](raw, random.Random(seed), list(sqlite_pristine.keys))
    assert_detected(ledger, expected)
    if seed % CLI_EVERY == 0:
        assert_cli_detects(cli, url, expected)


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("{chain}", "digest", "deadbeef"),
        ("{chain}", "digest", 0),
        ("{chain}", "originator_version", "7000000"),
        ("{chain}", "topic", 7),
        ("{events}", "state", "a text payload"),
        ("{events}", "state", None),
        ("{events}", "state", 42),
        ("{events}", "state", b""),
    ],
)
def test_sqlite_wrongly_typed_values_are_detected(
    table: str, column: str, value: object, sqlite_copy: tuple[str, Ledger], cli: CLI
) -> None:
    """SQLite lets a hand edit store text in a blob column (and so on): verify must report it, not crash."""
    url, ledger = sqlite_copy
    where = "position" if table == "{chain}" else "rowid"
    with raw_sql(url) as raw:
        raw.execute(f"UPDATE {table} SET {column} = ? WHERE {where} = 500", (value,))
    assert_detected(ledger, 500)
    assert_cli_detects(cli, url, 500)


@pytest.mark.parametrize("cut", [1, 7, 500])
def test_sqlite_truncated_tail_needs_a_checkpoint(cut: int, sqlite_copy: tuple[str, Ledger]) -> None:
    """Deleting the last events and their chain entries leaves a shorter, self-consistent chain.

    Only an exported checkpoint (``evidence verify --checkpoint``) reveals it: the head drops below the
    checkpoint's size. This test pins that limit so the documentation stays honest.
    """
    url, ledger = sqlite_copy
    with raw_sql(url) as raw:
        raw.execute("DELETE FROM {events} WHERE rowid > ?", (EVENTS - cut,))
        raw.execute("DELETE FROM {chain} WHERE position > ?", (EVENTS - cut,))
    assert ledger.verify() == EVENTS - cut
    assert ledger.head()[0] == EVENTS - cut


def test_sqlite_rewrite_with_recomputed_digests_needs_a_checkpoint(
    sqlite_copy: tuple[str, Ledger], sqlite_pristine: Pristine
) -> None:
    """Whoever rewrites a payload and every later digest leaves a consistent chain with a different head."""
    url, ledger = sqlite_copy
    with raw_sql(url) as raw:
        state = msgspec.json.decode(raw.execute("SELECT state FROM {events} WHERE rowid = 1900")[0][0])
        state["actor"] = "mallory"
        raw.execute("UPDATE {events} SET state = ? WHERE rowid = 1900", (msgspec.json.encode(state),))
        digest = raw.execute("SELECT digest FROM {chain} WHERE position = 1899")[0][0]
        for position, oid, version, topic, payload in raw.execute(
            "SELECT c.position, e.originator_id, e.originator_version, e.topic, e.state FROM {chain} c "
            "JOIN {events} e ON e.rowid = c.position WHERE c.position >= 1900 ORDER BY c.position"
        ):
            digest = chain.link(digest, position, oid, version, topic, payload)
            raw.execute("UPDATE {chain} SET digest = ? WHERE position = ?", (digest, position))
    assert ledger.verify() == EVENTS
    assert ledger.head() != sqlite_pristine.head  # what a checkpoint comparison catches


@pytest.mark.parametrize("kind", ["event-at-end", "chain-row-at-end"])
def test_cli_names_the_position_of_a_row_past_the_chain(
    kind: str, sqlite_copy: tuple[str, Ledger], sqlite_pristine: Pristine, cli: CLI
) -> None:
    """An extra event after the last chain entry is reported at the position it would occupy."""
    url, ledger = sqlite_copy
    with raw_sql(url) as raw:
        if kind == "event-at-end":
            _put_event(raw, EVENTS + 1, (uuid.uuid4().hex, 1, "Inspection.Opened", b"{}"))
            expected = EVENTS + 1
        else:
            raw.execute("DELETE FROM {chain} WHERE position = ?", (EVENTS,))
            expected = EVENTS
    assert_detected(ledger, expected)
    assert_cli_detects(cli, url, expected)


# --- PostgreSQL: mutate, verify, undo exactly, verify clean ----------------------------------------------


@pytest.fixture(scope="module")
def postgres_pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pristine]:
    url = fresh_url("postgres", tmp_path_factory.mktemp("tamper-postgres"))
    try:
        head = build(url)
        with raw_sql(url) as raw:
            schema = parse(url).schema
            raw.execute(f'CREATE TABLE "{schema}".pristine_events AS SELECT * FROM {{events}}')
            raw.execute(f'CREATE TABLE "{schema}".pristine_chain AS SELECT * FROM {{chain}}')
        yield Pristine(url=url, head=head, keys=event_keys(url))
    finally:
        discard(url)


def restore_postgres(url: str) -> None:
    """Put back both tables exactly as built (from the byte-for-byte copies beside them)."""
    schema = parse(url).schema
    events = "originator_id, originator_version, topic, state, notification_id"
    chain_columns = "position, originator_id, originator_version, topic, digest"
    with raw_sql(url) as raw:
        raw.execute("DELETE FROM {events}")
        raw.execute(f'INSERT INTO {{events}} ({events}) SELECT {events} FROM "{schema}".pristine_events')
        raw.execute("DELETE FROM {chain}")
        raw.execute(f'INSERT INTO {{chain}} ({chain_columns}) SELECT {chain_columns} FROM "{schema}".pristine_chain')


@pytest.fixture(scope="module")
def postgres_ledger(postgres_pristine: Pristine) -> Iterator[Ledger]:
    ledger = Ledger(postgres_pristine.url)
    yield ledger
    ledger.close()


@pytest.mark.parametrize("seed", _cases(POSTGRES_RUNS))
def test_postgres_mutation_is_detected_and_undone(
    seed: int, postgres_pristine: Pristine, postgres_ledger: Ledger, cli: CLI
) -> None:
    url = postgres_pristine.url
    try:
        with raw_sql(url) as raw:
            expected = MUTATIONS[seed % len(MUTATIONS)](raw, random.Random(seed), list(postgres_pristine.keys))
        assert_detected(postgres_ledger, expected)
        if seed % CLI_EVERY == 0:
            assert_cli_detects(cli, url, expected)
    finally:
        restore_postgres(url)
    assert postgres_ledger.verify() == EVENTS
    assert postgres_ledger.head() == postgres_pristine.head


@pytest.mark.parametrize("cut", [1, 300])
def test_postgres_truncated_tail_needs_a_checkpoint(
    cut: int, postgres_pristine: Pristine, postgres_ledger: Ledger
) -> None:
    url = postgres_pristine.url
    try:
        with raw_sql(url) as raw:
            raw.execute("DELETE FROM {events} WHERE {key} > ?", (postgres_pristine.keys[EVENTS - cut - 1],))
            raw.execute("DELETE FROM {chain} WHERE position > ?", (EVENTS - cut,))
        assert postgres_ledger.verify() == EVENTS - cut
    finally:
        restore_postgres(url)
    assert postgres_ledger.head() == postgres_pristine.head
