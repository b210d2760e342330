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


NOTE = "Visited the family home; the child was seen alone and spoke about school.\n"


def prepare(folder: Path, evidence: str, env: dict[str, str]) -> str:
    """An SQLite ledger with one open inspection, its codebook and one source; returns the source's id."""
    run([evidence, "init", "--user", "lead"], folder, env)
    run([evidence, "inspection", "open", "bench-2026", "--authority", "Benchmarkshire"], folder, env)
    run([evidence, "codebook", "use", "sif-2013"], folder, env)
    (folder / "first.txt").write_text(NOTE, encoding="utf-8")
    done = subprocess.run([evidence, "source", "add", "first.txt", "--kind", "observation", "--json"], cwd=folder,
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)[0]["id"][:8]


def subjects(folder: Path, evidence: str, source: str, i: int) -> dict[str, list[str]]:
    """The appends an inspector runs dozens of times an hour (each call appends one new event)."""
    (folder / f"note-{i}.txt").write_text(f"Note {i}: {NOTE}", encoding="utf-8")
    return {
        "member add": [evidence, "member", "add", f"person-{i}", "--role", "inspector"],
        "code apply": [evidence, "code", "apply", source, "child-seen-wishes-feelings", "--quote", "seen alone",
                       "--valence", "strength"],
        "note": [evidence, "note", f"Field note {i}: the manager described a backlog.", "--kind", "notebook"],
        "source add": [evidence, "source", "add", f"note-{i}.txt", "--kind", "observation"],
    }


def compile_project() -> None:
    """Write the project's bytecode, as any installed program has it (the anchor's library has its own).

    An editable install under PYTHONDONTWRITEBYTECODE would otherwise recompile every module on every run.
    """
    import compileall
    import importlib.util

    for package in ("ledger", "cli", "plugins", "projections"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                compileall.compile_dir(location, quiet=1)


def measure(runs: int, warmup: int = 2) -> dict[str, object]:
    """Interleave the anchor with each append (rotating the order) and return medians and ratios."""
    evidence = console_script()
    env = clean_env()
    compile_project()
    times: dict[str, list[float]] = {"anchor": []}
    with tempfile.TemporaryDirectory(prefix="bench-append-") as tmp:
        folder = Path(tmp)
        source = prepare(folder, evidence, env)
        for i in range(warmup + runs):
            order = [("anchor", ANCHOR), *subjects(folder, evidence, source, i).items()]
            shift = i % len(order)
            for name, command in order[shift:] + order[:shift]:
                elapsed = run(command, folder, env)
                if i >= warmup:
                    times.setdefault(name, []).append(elapsed)
    anchor = statistics.median(times.pop("anchor"))
    commands = {
        name: {"median_s": round(statistics.median(t), 4), "ratio": round(statistics.median(t) / anchor, 3),
               "meets_target": statistics.median(t) / anchor <= TARGET}
        for name, t in times.items()
    }
    return {
        "benchmark": "append",
        "runs": runs,
        "anchor_median_s": round(anchor, 4),
        "commands": commands,
        "target_max_ratio": TARGET,
        "meets_target": all(c["meets_target"] for c in commands.values()),
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
    print(f"anchor      python -c 'import eventsourcing.application': median {result['anchor_median_s'] * 1000:.1f} ms")
    for name, figures in result["commands"].items():
        verdict = "meets" if figures["meets_target"] else "MISSES"
        print(f"{name:<11} evidence {name}: median {figures['median_s'] * 1000:.1f} ms, ratio {figures['ratio']:.2f} "
              f"(target <= {TARGET}; {verdict} it)")
    print(f"over {runs} runs each")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
