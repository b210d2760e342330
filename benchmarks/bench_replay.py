"""Benchmark: replaying one judgment costs the same in a 10,000-event and a 1,000,000-event ledger.

Builds two SQLite ledgers holding the same generated inspection (``evidence demo``'s, seed 2017: 574 events) and
filler events of other inspections - codings and their withdrawals - appended through ``Ledger.append`` in
batches of 10,000, half before the demo and half after it, up to 10,000 and to ``--events`` (default
1,000,000; ``--quick``: 100,000) events. Then replays the demo's overall judgment in each (``ledger.replay``
and the text rendering), interleaved, and reports the median of ``--runs`` runs of each and their ratio. The
replay reads its aggregates by id, so the ratio should stay near 1 (target <= 1.5). It never asserts.

Usage: python benchmarks/bench_replay.py [--quick] [--events N] [--runs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SMALL = 10_000
BATCH = 10_000
TARGET = 1.5
SEED = 20170109


def filler(ledger: Any, count: int, rng: random.Random) -> None:
    """Append ``count`` events of other inspections: codings, one in ten later withdrawn."""
    from ledger.coding import Coding, CodingWithdrawn, SegmentCoded, Valence
    from ledger.events import Role

    others = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(50)]
    codes = ("help-protection/assessment", "looked-after/placement-stability", "leadership/workforce")
    pending: list[Any] = []
    made = 0
    while made < count:
        cid = uuid.UUID(int=rng.getrandbits(128), version=4)
        pending.append(ledger.event(
            SegmentCoded, cid, f"inspector-{rng.randrange(6)}", Role.INSPECTOR, inspection=rng.choice(others),
            source=rng.choice(others), start=0, end=40, quote_hash="0" * 64, code=rng.choice(codes),
            valence=rng.choice(list(Valence)), band=rng.choice((None, "good", "requires-improvement")),
        ))
        made += 1
        if made < count and rng.random() < 0.1:
            state = Coding()
            state.id, state.version = cid, 1
            pending.append(ledger.event(CodingWithdrawn, state, "lead", Role.LEAD, rationale="duplicate"))
            made += 1
        if len(pending) >= BATCH:
            ledger.append(*pending)
            pending.clear()
    if pending:
        ledger.append(*pending)


def build_ledger(url: str, events: int) -> int:
    """The demo inspection with filler around it, up to ``events`` events; returns the last position."""
    from cli.demo_inspection import build
    from ledger.application import Ledger
    from plugins.codebooks import load_codebook
    from plugins.frameworks import load_framework

    rng = random.Random(SEED)
    ledger = Ledger(url, create=True)
    try:
        before = ledger.last_position()
        around = max(0, events - 574 - before)
        filler(ledger, around // 2, rng)
    finally:
        ledger.close()
    build(url, load_framework("sif-2013"), load_codebook("sif-2013"), seed=2017)
    ledger = Ledger(url)
    try:
        filler(ledger, max(0, events - ledger.last_position()), rng)
        return ledger.last_position()
    finally:
        ledger.close()


def timer(url: str) -> Any:
    """A function that replays the demo's overall judgment in the ledger at ``url`` and renders it as text."""
    from cli.demo_inspection import REFERENCE
    from cli.replay import render_text
    from ledger import replay
    from ledger.application import Ledger
    from ledger.inspection import load
    from plugins.frameworks import load_framework

    ledger = Ledger(url)
    framework = load_framework("sif-2013")

    def run() -> tuple[float, int]:
        started = time.perf_counter()
        done = replay.replay(ledger, load(ledger, REFERENCE), "overall", framework=framework)
        render_text(done)
        return (time.perf_counter() - started) * 1000, len(done.steps)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000 in the large one")
    parser.add_argument("--events", type=int, help="events in the large ledger (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=30, help="replays of each ledger (interleaved)")
    parser.add_argument("--keep", type=Path, help="build the ledgers in this folder and keep them")
    args = parser.parse_args(argv)
    large = args.events or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sizes: dict[str, int] = {}
        urls: dict[str, str] = {}
        for name, events in (("small", SMALL), ("large", large)):
            path = folder / f"replay-{events}.db"
            urls[name] = f"sqlite:///{path.resolve()}"
            if not path.exists():
                started = time.perf_counter()
                sizes[name] = build_ledger(urls[name], events)
                print(f"built the {name} ledger: {sizes[name]:,} events in {time.perf_counter() - started:.1f} s")
            else:
                from ledger.application import Ledger

                kept = Ledger(urls[name])
                sizes[name] = kept.last_position()
                kept.close()
        runs = {name: timer(url) for name, url in urls.items()}
        samples: dict[str, list[float]] = {"small": [], "large": []}
        steps = {name: run()[1] for name, run in runs.items()}  # a warm-up run; both replay the same steps
        for index in range(args.runs):
            order = ("small", "large") if index % 2 == 0 else ("large", "small")
            for name in order:
                samples[name].append(runs[name]()[0])
    medians = {name: statistics.median(values) for name, values in samples.items()}
    ratio = medians["large"] / medians["small"]
    for name in ("small", "large"):
        print(f"{name:<6} {sizes[name]:>9,} events: replay of the overall judgment, median {medians[name]:7.2f} ms "
              f"over {args.runs} runs ({steps[name]} steps)")
    print(f"ratio large/small {ratio:.2f} (target <= {TARGET}); same steps: {steps['small'] == steps['large']}")
    print(json.dumps({"benchmark": "replay", "events": sizes, "runs": args.runs, "steps": steps,
                      "median_ms": {k: round(v, 2) for k, v in medians.items()}, "ratio": round(ratio, 3),
                      "target": TARGET, "met": ratio <= TARGET, "python": sys.version.split()[0],
                      "cores": os.cpu_count() or 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
