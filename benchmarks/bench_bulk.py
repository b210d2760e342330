"""Benchmark: bulk append throughput through Ledger.append (hash chain on), as a ratio to raw sqlite3.

The anchor inserts the same number of rows, of the same payload sizes and columns (id text, version int,
topic text, state blob), with ``executemany`` into a fresh SQLite file in WAL mode with ``synchronous=FULL``,
committing once per batch of the same size. Rounds interleave anchor and subject, each on a fresh file, and
the medians are compared. Target: ratio >= 0.25 (docs/benchmarks.md). Never asserts on time.

Usage: python benchmarks/bench_bulk.py [--quick] [--events N] [--batch B] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ledger import events
from ledger.application import Ledger
from ledger.events import Role
from ledger.inspection import Opened

TARGET = 0.25


def make_events(count: int) -> list[Opened]:
    """``count`` class-version-1 events (like most ingest events) on aggregates of 50 events each.

    The storage layer does not interpret events, so one event class stands for any: what matters is the
    number of rows, their payload size and the chain.
    """
    moment = events.now()
    out = []
    for i in range(count):
        aggregate, version = divmod(i, 50)
        out.append(
            Opened(
                originator_id=uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{aggregate}"),
                originator_version=version + 1,
                timestamp=moment,
                actor="lead",
                role=Role.LEAD,
                reference=f"bench-{i:06d}",
                authority=f"Benchmarkshire County Council, area {i % 97}",
                framework="sif-2013",
                starts=moment.date(),
                ends=moment.date(),
            )
        )
    return out


def raw_rows(evts: list[Opened]) -> list[tuple[str, int, str, bytes]]:
    """The rows the anchor inserts: same ids, versions, topics and payload bytes the ledger stores."""
    return [(e.originator_id.hex, e.originator_version, e.TOPIC, events.encode(e)) for e in evts]


def run_raw(path: Path, rows: list[tuple[str, int, str, bytes]], batch: int) -> float:
    """Seconds to insert ``rows`` with plain sqlite3, committing per batch."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE events (id TEXT, version INTEGER, topic TEXT, state BLOB)")
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows[start : start + batch])
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def run_ledger(path: Path, evts: list[Opened], batch: int) -> float:
    """Seconds to append ``evts`` through ``Ledger.append`` (encoding, chain and durability included)."""
    ledger = Ledger(f"sqlite:///{path}", create=True)
    try:
        started = time.perf_counter()
        for start in range(0, len(evts), batch):
            ledger.append(*evts[start : start + batch])
        elapsed = time.perf_counter() - started
        assert ledger.last_position() == len(evts)  # every event landed (not a timing assertion)
        return elapsed
    finally:
        ledger.close()


def measure(count: int, batch: int, rounds: int) -> dict[str, object]:
    evts = make_events(count)
    rows = raw_rows(evts)
    raw_rates: list[float] = []
    ledger_rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        for r in range(rounds):
            order = [("raw", run_raw, rows), ("ledger", run_ledger, evts)]
            if r % 2:
                order.reverse()
            for name, runner, data in order:
                seconds = runner(Path(tmp) / f"{name}-{r}.db", data, batch)  # type: ignore[operator]
                (raw_rates if name == "raw" else ledger_rates).append(count / seconds)
    raw = statistics.median(raw_rates)
    led = statistics.median(ledger_rates)
    return {
        "benchmark": "bulk",
        "events": count,
        "batch": batch,
        "rounds": rounds,
        "payload_bytes_mean": round(sum(len(r[3]) for r in rows) / len(rows), 1),
        "raw_events_per_s": round(raw),
        "ledger_events_per_s": round(led),
        "ratio": round(led / raw, 3),
        "per_round_ratios": [round(lr / rr, 3) for lr, rr in zip(ledger_rates, raw_rates, strict=True)],
        "target_min_ratio": TARGET,
        "meets_target": led / raw >= TARGET,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cores": os.cpu_count() or 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 events and 3 rounds instead of 20,000 and 5")
    parser.add_argument("--events", type=int, help="number of events (default 20,000)")
    parser.add_argument("--batch", type=int, default=500, help="events per append call / commit (default 500)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds of anchor and subject")
    args = parser.parse_args(argv)
    count = args.events or (5_000 if args.quick else 20_000)
    rounds = args.rounds or (3 if args.quick else 5)
    result = measure(count, args.batch, rounds)
    print(f"raw sqlite3 executemany: {result['raw_events_per_s']:>9,} rows/s (WAL, synchronous=FULL)")
    print(f"Ledger.append (chained): {result['ledger_events_per_s']:>9,} events/s")
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(f"ratio {result['ratio']:.3f} (target >= {TARGET}; {verdict} it); {count} events in batches of {args.batch}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
