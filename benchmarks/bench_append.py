"""Benchmark: the wall time of one CLI append, as a ratio to importing eventsourcing.application alone.

Why a ratio: the machine is shared and noisy, so absolute times mean little; the anchor is measured in the same
run, interleaved with the subject, and both are summarised by their medians. Target: ratio <= 2.0
(docs/benchmarks.md). The benchmark never asserts on time; it prints the figures and a JSON line.

Usage: python benchmarks/bench_append.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 2.0
ANCHOR = [sys.executable, "-c", "import eventsourcing.application"]


def console_script() -> str:
    """The ``evidence`` script installed beside this interpreter (the same venv)."""
    script = Path(sys.executable).parent / "evidence"
    if not script.exists():
        sys.exit(f"No 'evidence' script beside {sys.executable}; install the project there (pip install -e .).")
    return str(script)


def clean_env() -> dict[str, str]:
    """This environment without the ledger's own variables, so the prepared folder's config is what counts."""
    return {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds of wall time for one run of ``command``; a failure stops the benchmark with its message."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return elapsed


def prepare(folder: Path, evidence: str, env: dict[str, str]) -> None:
    """An SQLite ledger with one open inspection, as a lead inspector would have it."""
    run([evidence, "init", "--user", "lead"], folder, env)
    run([evidence, "inspection", "open", "bench-2026", "--authority", "Benchmarkshire"], folder, env)


def measure(runs: int, warmup: int = 2) -> dict[str, float | int | bool | str]:
    """Interleave anchor and append runs (alternating which goes first) and return their medians and ratio."""
    evidence = console_script()
    env = clean_env()
    anchor_times: list[float] = []
    append_times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-append-") as tmp:
        folder = Path(tmp)
        prepare(folder, evidence, env)
        for i in range(warmup + runs):
            append = [evidence, "--as", "lead", "member", "add", f"person-{i}", "--role", "inspector"]
            pair = [("anchor", ANCHOR), ("append", append)]
            if i % 2:
                pair.reverse()
            for name, command in pair:
                elapsed = run(command, folder, env)
                if i >= warmup:
                    (anchor_times if name == "anchor" else append_times).append(elapsed)
    anchor = statistics.median(anchor_times)
    append = statistics.median(append_times)
    return {
        "benchmark": "append",
        "command": "evidence --as lead member add PERSON --role inspector",
        "runs": runs,
        "anchor_median_s": round(anchor, 4),
        "append_median_s": round(append, 4),
        "ratio": round(append / anchor, 3),
        "target_max_ratio": TARGET,
        "meets_target": append / anchor <= TARGET,
        "python": sys.version.split()[0],
        "cores": os.cpu_count() or 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 runs instead of 30")
    parser.add_argument("--runs", type=int, help="number of measured runs of each command")
    args = parser.parse_args(argv)
    runs = args.runs or (10 if args.quick else 30)
    result = measure(runs)
    print(f"anchor  python -c 'import eventsourcing.application': median {result['anchor_median_s'] * 1000:.1f} ms")
    print(f"append  {result['command']}: median {result['append_median_s'] * 1000:.1f} ms")
    verdict = "meets" if result["meets_target"] else "MISSES"
    print(f"ratio   {result['ratio']:.2f} (target <= {TARGET}; {verdict} it) over {runs} runs each")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
