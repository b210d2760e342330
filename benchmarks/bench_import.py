"""Benchmark: import 1,000 note files and code each 20 times through the CLI, as a ratio to raw sqlite3.

Subject, in a fresh SQLite ledger prepared untimed (``evidence init``, ``inspection open``, ``codebook use
sif-2013``): (1) ``evidence source add`` of all the generated ``.txt`` notes, one process and one append;
(2) ``evidence code batch`` of a CSV holding 20 codings per note, half by span and half by quote, one process
and one append. Each is timed as a whole process: start-up, reading and checking every file or row, the
chained durable append.

Anchor, in the same round: plain ``sqlite3`` ``executemany`` of the very rows the ledger stored in each step
(ids, versions, topics, payload bytes) into ``(id TEXT, version INTEGER, topic TEXT, state BLOB)`` in a fresh
WAL file with ``synchronous=FULL``, one transaction per step, as the CLI makes one append per command.
Rounds alternate which runs first; medians are compared. Never asserts on time.

Usage: python benchmarks/bench_import.py [--quick] [--notes N] [--codings K] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger.application import Ledger
from ledger.inspection import inspection_id
from ledger.source import source_id

REFERENCE = "bench-2024"
TARGET = 0.25
PHRASES = (
    "the social worker visited the child at home and saw her alone",
    "the manager's oversight of the plan was recorded and clear",
    "the core group met on time and reviewed every action",
    "the chronology was up to date and used to inform the assessment",
    "the child's wishes and feelings were recorded in her own words",
    "the school nurse shared information promptly with the team",
    "the plan lacked timescales and drifted after the conference",
    "supervision was reflective and challenged the worker's analysis",
)
CODES = (
    "help-protection/assessment", "help-protection/core-groups", "help-protection/child-seen-wishes-feelings",
    "help-protection/cp-conferences-and-plans", "leadership/management-oversight-supervision", "help-protection",
)
VALENCES = ("strength", "weakness", "neutral")


def note_text(number: int, entries: int, rng: random.Random) -> str:
    """A note of ``entries`` lines, each starting with a unique ``Entry NN:`` so that quotes are unique."""
    lines = [f"Case note {number:04d}, visit record"]
    for entry in range(entries):
        words = rng.sample(PHRASES, 2)
        lines.append(f"Entry {entry:02d}: {words[0]}; {words[1]}.")
    return "\n".join(lines) + "\n"


def write_inputs(folder: Path, notes: int, per_note: int) -> tuple[list[Path], Path]:
    """The note files and the CSV of codings (even entries by span, odd entries by quote)."""
    rng = random.Random(20240305)
    inspection = inspection_id(REFERENCE)
    files, rows = [], ["source,code,start,end,quote,occurrence,valence,band,note"]
    for number in range(notes):
        text = note_text(number, per_note, rng)
        path = folder / f"note-{number:04d}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
        sid = source_id(inspection, text).hex
        for entry in range(per_note):
            start = text.index(f"Entry {entry:02d}:")
            end = text.index("\n", start)
            code, valence = CODES[(number + entry) % len(CODES)], VALENCES[entry % len(VALENCES)]
            if entry % 2:
                rows.append(f"{sid},{code},,,Entry {entry:02d}: {text[start + 10:start + 30].strip()},,{valence},,")
            else:
                rows.append(f"{sid},{code},{start},{end},,,{valence},good,bench")
    batch = folder / "codings.csv"
    batch.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return files, batch


def evidence(work: Path, *args: str) -> float:
    """Seconds one ``evidence`` command takes as a process; a failure stops the benchmark."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")} | {"EVIDENCE_USER": "lead"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=work, env=env, capture_output=True,
                          text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"evidence {args[0]} {args[1] if len(args) > 1 else ''} failed: {done.stderr.strip()}")
    return elapsed


def run_subject(work: Path, files: list[Path], batch: Path) -> tuple[float, float, list[list[tuple]]]:
    """Seconds for the two steps, and the rows each step stored (for the anchor)."""
    work.mkdir()
    evidence(work, "init")
    evidence(work, "inspection", "open", REFERENCE, "--authority", "Benchmarkshire")
    evidence(work, "codebook", "use", "sif-2013")
    ledger = Ledger(f"sqlite:///{work / '.evidence' / 'ledger.db'}")
    try:
        marks = [ledger.last_position()]
        add = evidence(work, "source", "add", *map(str, files), "--kind", "notebook")
        marks.append(ledger.last_position())
        code = evidence(work, "code", "batch", str(batch))
        marks.append(ledger.last_position())
        steps = [[row[1:] for row in ledger.ledger_rows(after=a, stop=b)] for a, b in zip(marks, marks[1:])]
    finally:
        ledger.close()
    return add, code, steps


def run_anchor(path: Path, steps: list[list[tuple]]) -> list[float]:
    """Seconds to insert each step's rows with plain sqlite3, one transaction per step."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE events (id TEXT, version INTEGER, topic TEXT, state BLOB)")
        out = []
        for rows in steps:
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
            out.append(time.perf_counter() - started)
        return out
    finally:
        conn.close()


def measure(notes: int, per_note: int, rounds: int) -> dict[str, object]:
    subject: list[tuple[float, float]] = []
    anchor: list[list[float]] = []
    counts: list[int] = []
    sizes: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        inputs = Path(tmp) / "inputs"
        inputs.mkdir()
        files, batch = write_inputs(inputs, notes, per_note)
        for r in range(rounds):
            add, code, steps = run_subject(Path(tmp) / f"ledger-{r}", files, batch)
            subject.append((add, code))
            anchor.append(run_anchor(Path(tmp) / f"raw-{r}.db", steps))
            counts = [len(rows) for rows in steps]
            sizes = [sum(len(row[3]) for row in rows) / len(rows) for rows in steps]
    add_s = statistics.median(s[0] for s in subject)
    code_s = statistics.median(s[1] for s in subject)
    raw_add = statistics.median(a[0] for a in anchor)
    raw_code = statistics.median(a[1] for a in anchor)
    total, raw_total = add_s + code_s, raw_add + raw_code
    events = sum(counts)
    return {
        "benchmark": "import", "notes": notes, "codings_per_note": per_note, "rounds": rounds,
        "events": {"source_add": counts[0], "code_batch": counts[1]},
        "payload_bytes_mean": {"source_add": round(sizes[0], 1), "code_batch": round(sizes[1], 1)},
        "seconds": {"source_add": round(add_s, 3), "code_batch": round(code_s, 3), "total": round(total, 3)},
        "anchor_seconds": {"source_add": round(raw_add, 4), "code_batch": round(raw_code, 4),
                           "total": round(raw_total, 4)},
        "events_per_s": {"source_add": round(counts[0] / add_s), "code_batch": round(counts[1] / code_s),
                         "total": round(events / total)},
        "anchor_rows_per_s": round(events / raw_total),
        "ratio": {"source_add": round(raw_add / add_s, 4), "code_batch": round(raw_code / code_s, 4),
                  "total": round(raw_total / total, 4)},
        "target_min_ratio": TARGET, "meets_target": raw_total / total >= TARGET,
        "per_round_seconds": [[round(a, 3), round(c, 3)] for a, c in subject],
        "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version, "cores": os.cpu_count() or 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 notes and 2 rounds instead of 1,000 and 3")
    parser.add_argument("--notes", type=int, help="number of note files (default 1,000)")
    parser.add_argument("--codings", type=int, default=20, help="codings per note (default 20)")
    parser.add_argument("--rounds", type=int, help="rounds, each on fresh ledgers (default 3)")
    args = parser.parse_args(argv)
    notes = args.notes or (200 if args.quick else 1000)
    result = measure(notes, args.codings, args.rounds or (2 if args.quick else 3))
    seconds, anchor, rates, ratio = (result[k] for k in ("seconds", "anchor_seconds", "events_per_s", "ratio"))
    events = result["events"]
    print(f"source add: {events['source_add']:>6,} events in {seconds['source_add']:7.3f} s "  # type: ignore[index]
          f"({rates['source_add']:>7,} events/s); raw sqlite3 {anchor['source_add']:.4f} s; "  # type: ignore[index]
          f"ratio {ratio['source_add']:.4f}")  # type: ignore[index]
    print(f"code batch: {events['code_batch']:>6,} events in {seconds['code_batch']:7.3f} s "  # type: ignore[index]
          f"({rates['code_batch']:>7,} events/s); raw sqlite3 {anchor['code_batch']:.4f} s; "  # type: ignore[index]
          f"ratio {ratio['code_batch']:.4f}")  # type: ignore[index]
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(f"total: {rates['total']:,} events/s against {result['anchor_rows_per_s']:,} rows/s raw; "  # type: ignore[index]
          f"ratio {ratio['total']:.4f} (target >= {TARGET}; {verdict} it)")  # type: ignore[index]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
