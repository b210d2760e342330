"""Signed checkpoints catch what the chain alone cannot: truncation and a rewrite with recomputed digests."""

from __future__ import annotations

import sqlite3

import msgspec
import pytest

from ledger import chain
from ledger.application import Ledger
from ledger.checkpoint import Checkpoint, check, generate_keys, sign
from ledger.errors import BadInput, IntegrityViolation
from ledger.events import Role
from ledger.inspection import MemberJoined, open_inspection


@pytest.fixture
def built(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url, create=True)
    inspection = open_inspection(ledger, "lead", "demo-2017", authority="Demo", framework="sif-2013")
    ledger.append(*[
        ledger.event(MemberJoined, inspection.id, "lead", Role.LEAD, person=f"p{i}", member_role=Role.INSPECTOR,
                     display_name=f"P {i}").__replace__(originator_version=i + 2)
        for i in range(10)
    ])
    private, public = generate_keys(tmp_path / "keys")
    yield ledger, tmp_path / "ledger.db", private, public
    ledger.close()


def _raw(path):
    conn = sqlite3.connect(path)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def test_checkpoint_of_an_intact_ledger_checks(built):
    ledger, _, private, public = built
    signed = sign(ledger, private)
    assert signed.size == 11
    assert check(ledger, signed, public) == 11


def test_the_private_key_is_not_in_the_database(built):
    ledger, path, private, _ = built
    sign(ledger, private)
    secret = private.read_bytes().split(b"-----")[2].strip()
    for file in path.parent.glob("ledger.db*"):
        assert secret not in file.read_bytes()


def test_truncation_passes_the_chain_but_not_the_checkpoint(built):
    ledger, path, private, public = built
    signed = sign(ledger, private)
    conn = _raw(path)
    conn.execute("DELETE FROM stored_events WHERE rowid > 9")
    conn.execute("DELETE FROM ledger_chain WHERE position > 9")
    conn.commit()
    assert ledger.verify() == 9  # undetectable from the chain alone, as documented
    with pytest.raises(IntegrityViolation, match="truncated"):
        check(ledger, signed, public)


def test_rewrite_with_recomputed_digests_is_caught(built):
    ledger, path, private, public = built
    signed = sign(ledger, private)
    conn = _raw(path)
    rows = conn.execute("SELECT position, originator_id, originator_version, topic FROM ledger_chain ORDER BY position").fetchall()
    original = conn.execute("SELECT state FROM stored_events WHERE rowid = 5").fetchone()[0]
    state5 = original.replace(b'"P ', b'"Q ')
    assert state5 != original
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 5", (state5,))
    digest = chain.GENESIS
    for position, oid, version, topic in rows:
        state = conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()[0]
        digest = chain.link(digest, position, oid, version, topic, state)
        conn.execute("UPDATE ledger_chain SET digest = ? WHERE position = ?", (digest, position))
    conn.commit()
    assert ledger.verify() == 11  # a consistent forgery as far as the chain goes
    with pytest.raises(IntegrityViolation, match="rewritten"):
        check(ledger, signed, public)


@pytest.mark.parametrize("field", ["origin", "size", "root", "key_id", "signature"])
def test_any_altered_field_is_rejected(built, field):
    ledger, _, private, public = built
    signed = sign(ledger, private)
    value = getattr(signed, field)
    altered = value + 1 if isinstance(value, int) else ("0" if value[0] != "0" else "1") + value[1:]
    forged = msgspec.structs.replace(signed, **{field: altered})
    with pytest.raises(BadInput):
        check(ledger, forged, public)


def test_an_unknown_key_is_rejected(built, tmp_path):
    ledger, _, private, _ = built
    signed = sign(ledger, private)
    _, other_public = generate_keys(tmp_path / "other")
    with pytest.raises(BadInput, match="another key"):
        check(ledger, signed, other_public)


def test_checkpoint_roundtrips_as_json(built):
    ledger, _, private, _ = built
    signed = sign(ledger, private)
    assert msgspec.json.decode(msgspec.json.encode(signed), type=Checkpoint) == signed


def test_verify_json_reports_the_first_bad_position_and_exits_non_zero(team) -> None:  # noqa: ANN001
    path = team.url[len("sqlite:///"):]
    conn = _raw(path)
    original = conn.execute("SELECT state FROM stored_events WHERE rowid = 2").fetchone()[0]
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = 2", (original.replace(b"bob", b"bib"),))
    conn.commit()
    result = team("verify", "--json")
    assert result.code == 6
    assert msgspec.json.decode(result.out) == {
        "verified": 1, "first_bad_position": 2,
        "error": "The event at ledger position 2 does not match its digest (its content was altered).",
    }
    assert result.err.count("\n") == 1 and "position 2" in result.err
