"""No lost or duplicated appends under concurrency (RELIABILITY R1, R3).

Four processes (spawned) each make 100 appends on each backend: every other one to a shared inspection (all
four load the same version behind a barrier, then race to append it, so three of four must conflict), the rest
to an inspection of their own. Each process records a history of (worker, op, result). Afterwards: every
acknowledged append is present exactly once, no conflicted one is present, each aggregate's versions are
gapless, the ledger positions are exactly 1..N, the chain verifies, and every conflict was a retryable
``Conflict``.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

from ledger.application import Ledger
from ledger.errors import Conflict
from ledger.events import Role
from ledger.inspection import MemberJoined, inspection_id, load, open_inspection
from ledger.testing.backends import check_integrity

WORKERS = 4
OPS = 100
SHARED = "shared-2017"


class Outcome(msgspec.Struct, frozen=True):
    """One attempted append, as its worker saw it."""

    worker: int
    op: str
    aggregate: str
    result: str  # "ok", "conflict" or "error"
    error: str = ""
    retryable: bool = False


def own_reference(worker: int) -> str:
    return f"own-{worker}"


def worker(url: str, number: int, barrier: Any, out: str) -> None:
    """Append OPS events, recording what happened to each; runs in its own process."""
    ledger = Ledger(url)
    history: list[Outcome] = []
    try:
        for n in range(OPS):
            op = f"w{number}-op{n:03d}"
            shared = n % 2 == 0
            if shared:
                barrier.wait(timeout=60)  # every earlier shared append has committed
            target = load(ledger, SHARED if shared else own_reference(number))
            if shared:
                barrier.wait(timeout=60)  # all four now hold the same version
            event = ledger.event(
                MemberJoined, target, "lead", Role.LEAD, person=f"p-{op}", member_role=Role.INSPECTOR, display_name=op
            )
            try:
                ledger.append(event)
                history.append(Outcome(number, op, target.id.hex, "ok"))
            except Exception as error:  # noqa: BLE001 - every failure is recorded and judged by the test
                kind = "conflict" if isinstance(error, Conflict) else "error"
                retryable = bool(getattr(error, "retryable", False))
                history.append(Outcome(number, op, target.id.hex, kind, f"{type(error).__name__}: {error}", retryable))
    finally:
        ledger.close()
        Path(out).write_bytes(msgspec.json.encode(history))


def run_workers(url: str, directory: Path) -> list[Outcome]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    outputs = [directory / f"history-{n}.json" for n in range(WORKERS)]
    processes = [
        context.Process(target=worker, args=(url, n, barrier, str(outputs[n])), name=f"ledger-worker-{n}")
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    codes = [process.exitcode for process in processes]
    assert codes == [0] * WORKERS, f"worker exit codes {codes}"
    history: list[Outcome] = []
    for path in outputs:
        history += msgspec.json.decode(path.read_bytes(), type=list[Outcome])
    return history


def test_concurrent_appends_are_each_recorded_once(url: str, tmp_path: Path) -> None:
    setup = Ledger(url, create=True)
    try:
        for reference in (SHARED, *(own_reference(n) for n in range(WORKERS))):
            open_inspection(setup, "lead", reference, authority="A", framework="sif-2013")
    finally:
        setup.close()

    history = run_workers(url, tmp_path)
    assert len(history) == WORKERS * OPS

    failures = [h for h in history if h.result != "ok"]
    assert [h for h in failures if h.result != "conflict"] == []
    assert all(h.error.startswith("Conflict:") and h.retryable for h in failures), failures[:3]
    shared_id = inspection_id(SHARED).hex
    # each shared round: four hold the same version, exactly one wins
    rounds = WORKERS * OPS // 2 // WORKERS
    assert Counter(h.result for h in history if h.aggregate == shared_id) == {
        "ok": rounds, "conflict": rounds * (WORKERS - 1)
    }
    assert all(h.result == "ok" for h in history if h.aggregate != shared_id)

    ledger = Ledger(url)
    try:
        recorded = Counter(
            e.display_name for _, e in ledger.history() if isinstance(e, MemberJoined)
        )
        acknowledged = {h.op for h in history if h.result == "ok"}
        assert {op for op, times in recorded.items() if times > 1} == set()
        assert set(recorded) == acknowledged
        assert not {h.op for h in failures} & set(recorded)
        n = check_integrity(ledger)
        assert n == 1 + WORKERS + len(acknowledged)
        for h in history:
            if h.result == "ok":
                assert h.aggregate in {inspection_id(SHARED).hex, inspection_id(own_reference(h.worker)).hex}
    finally:
        ledger.close()
