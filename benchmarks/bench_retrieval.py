"""Benchmark: projection rebuild rate and memory, and retrieval query times, on a generated SQLite ledger.

Builds a ledger of ``--events`` generated events (default 1,000,000; ``--quick``: 100,000) spread over several
inspections - sources with realistic text, a SIF codebook each, codings, withdrawals and memos - appending them
through ``Ledger.append`` in large batches. Then, in a fresh process, rebuilds every projection and reports
events/s and the peak RSS (``resource.getrusage``) when 10% of the log had been applied and at the end: flat
memory means the two are close. Finally times ``codings --code X`` and ``search`` through the query functions
(median of 20 runs each) against their targets. It prints figures and ratios and a JSON line; it never asserts.

Targets (docs/benchmarks.md): rebuild >= 30,000 events/s; codings --code X < 50 ms; search < 100 ms.

Usage: python benchmarks/bench_retrieval.py [--quick] [--events N] [--inspections N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TARGET_RATE, TARGET_CODINGS_MS, TARGET_SEARCH_MS = 30_000, 50.0, 100.0
SEED = 20170109
APPEND_BATCH = 10_000

SENTENCES = (
    "The social worker visited the family at home and saw the child alone.",
    "A return interview was offered within 72 hours but the young person declined.",
    "Management oversight was visible on the file, with clear actions and timescales.",
    "The strategy discussion included police and health and was held promptly.",
    "Chloé said she felt listened to and knew who her social worker was.",
    "The assessment did not consider the impact of domestic abuse on the children.",
    "Supervision records were brief and did not show reflective discussion.",
    "The child protection plan was specific, measurable and reviewed at each core group.",
    "Thresholds were not consistently understood by partner agencies at the front door.",
    "Zoë's life story work had started and her carers were helping her with it.",
    "Caseloads in the assessment team were high, with some workers holding over thirty children.",
    "The independent reviewing officer challenged drift in permanence planning.",
    "Care leavers told inspectors that their personal advisers kept in touch.",
    "Early help assessments were completed but the plans lacked clear outcomes.",
    "The Local Safeguarding Children Board had audited neglect cases across agencies.",
    "Missing episodes were recorded, yet patterns of risk were not analysed.",
)
RARE = "José's advocate described the café meetings as a turning point."


class Clock:
    """Event times two seconds apart from the first fieldwork day: the work spreads over weeks, like a real one."""

    def __init__(self) -> None:
        self.now = datetime(2017, 1, 9, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=2)
        return self.now


def source_text(rng: random.Random, rare: bool) -> tuple[str, list[tuple[int, int]]]:
    """About 1,000 characters of case-file prose (CRLF line ends), and the span of each sentence."""
    picked = [rng.choice(SENTENCES) for _ in range(14)]
    if rare:
        picked[rng.randrange(len(picked))] = RARE
    text, spans = "", []
    for sentence in picked:
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence + ("\r\n" if rng.random() < 0.3 else " ")
    return text, spans


def generate(url: str, events: int, inspections: int) -> dict[str, Any]:
    """Append ``events`` generated events; returns what the queries should look for."""
    from ledger import codebook, coding, memo, source
    from ledger.application import Ledger
    from ledger.events import Role
    from ledger.inspection import Inspection, MemberJoined, Opened, inspection_id
    from ledger.pluginmanager import registered

    rng = random.Random(SEED)
    ledger = Ledger(url, create=True, clock=Clock())
    spec = registered("register_codebooks")["sif-2013"]
    codes = tuple(codebook.Code(id=c.id, label=c.label, parent=c.parent, description=c.description,
                                facet=c.facet) for c in spec.codes)
    leaves = [c.id for c in codes if c.parent is not None]
    team = [f"inspector-{i}" for i in range(6)]
    per_inspection = events // inspections
    pending: list[Any] = []
    written = 0

    def add(event: Any) -> None:
        nonlocal written
        pending.append(event)
        written += 1
        if len(pending) >= APPEND_BATCH:
            ledger.append(*pending)
            pending.clear()

    for number in range(inspections):
        reference = f"bench-{number:03d}"
        iid = inspection_id(reference)
        add(ledger.event(Opened, iid, "lead", Role.LEAD, reference=reference, authority=f"Authority {number}",
                         framework="sif-2013"))
        state = Inspection()
        state.id, state.version = iid, 1
        for person in team:
            add(ledger.event(MemberJoined, state, "lead", Role.LEAD, person=person, member_role=Role.INSPECTOR,
                             display_name=person))
            state.version += 1
        add(ledger.event(codebook.CodebookAdopted, codebook.codebook_id(iid), "lead", Role.LEAD, inspection=iid,
                         name="sif-2013", codes=codes))
        budget = per_inspection - 8
        n_sources = max(1, budget // 100)
        texts = []
        for index in range(n_sources):
            text, spans = source_text(rng, rare=index % 50 == 0)
            sid = source.source_id(iid, text + str(index))
            text = text + str(index)
            add(ledger.event(source.Registered, sid, rng.choice(team), Role.INSPECTOR, inspection=iid,
                             title=f"Case file {index}", kind=rng.choice(list(source.Kind)), text=text,
                             content_hash=source.content_hash(text), case=f"C-{index % 30:02d}"))
            texts.append((sid, text, spans))
        remaining = budget - n_sources
        n_memos = remaining // 200
        n_withdrawn = remaining // 100
        n_codings = remaining - 2 * n_memos - n_withdrawn
        made: list[uuid.UUID] = []
        for _ in range(n_codings):
            sid, text, spans = rng.choice(texts)
            start, end = rng.choice(spans)
            valence = rng.choice(("strength", "weakness", "neutral"))
            cid = uuid.uuid4()
            made.append(cid)
            add(ledger.event(coding.SegmentCoded, cid, rng.choice(team), Role.INSPECTOR, inspection=iid, source=sid,
                             start=start, end=end, quote_hash=coding.quote_hash(text[start:end]),
                             code=rng.choice(leaves), valence=coding.Valence(valence),
                             band=rng.choice((None, "good", "requires-improvement")),
                             note="seen on file" if rng.random() < 0.2 else ""))
        for cid in rng.sample(made, min(n_withdrawn, len(made))):
            state = coding.Coding()
            state.id, state.version = cid, 1
            add(ledger.event(coding.CodingWithdrawn, state, "lead", Role.LEAD, rationale="duplicate"))
        for index in range(n_memos):
            mid = uuid.uuid4()
            add(ledger.event(memo.Written, mid, "lead", Role.LEAD, inspection=iid, target_kind="code",
                             target=rng.choice(leaves), text=f"Memo {index} on emerging themes."))
            state = memo.Memo()
            state.id, state.version = mid, 1
            add(ledger.event(memo.Amended, state, "lead", Role.LEAD, text=f"Memo {index}, amended."))
    if pending:
        ledger.append(*pending)
    last = ledger.last_position()
    ledger.close()
    return {"events": last, "written": written, "inspection": "bench-000",
            "code": "help-protection/missing-from-home"}


class Probe:
    """A do-nothing projection that notes the peak RSS when the rebuild passes a given ledger position."""

    name = "bench_probe"
    version = 1
    tables = ()
    topics = frozenset()

    def __init__(self, at: int) -> None:
        self.at = at
        self.peak_at: int | None = None

    def apply(self, _conn: Any, batch: list[tuple[int, Any]]) -> None:
        if self.peak_at is None and batch[-1][0] >= self.at:
            self.peak_at = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rebuild_phase(url: str) -> dict[str, Any]:
    """Run in a fresh process: rebuild every projection, with the probe at 10% of the log."""
    from ledger.application import Ledger
    from projections import all_projections
    from projections.base import rebuild
    from projections.engine import engine_for

    ledger = Ledger(url)
    probe = Probe(ledger.last_position() // 10)
    started = time.perf_counter()
    count = rebuild(ledger, engine_for(url), [*all_projections(), probe])  # type: ignore[list-item]
    seconds = time.perf_counter() - started
    return {"events": count, "seconds": round(seconds, 2), "events_per_s": round(count / seconds),
            "probe_at_event": probe.at, "rss_mb_at_10pct": round((probe.peak_at or 0) / 1024, 1),
            "rss_mb_at_end": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def median_ms(run: Any, times: int = 20) -> tuple[float, Any]:
    run()  # warm the page cache and the plan
    samples, result = [], None
    for _ in range(times):
        started = time.perf_counter()
        result = run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def query_phase(url: str, reference: str, code: str) -> dict[str, Any]:
    from ledger.application import Ledger
    from ledger.inspection import inspection_id
    from projections import evidence, ready

    ledger = Ledger(url)
    engine = ready(ledger)
    iid = inspection_id(reference).hex
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for name, run in (
            ("codings_code", lambda: evidence.codings(conn, iid, code=code)),
            ("codings_code_children",  # a whole judgment area: every theme's codings, for scale
             lambda: evidence.codings(conn, iid, code="help-protection", with_children=True)),
            ("search_common", lambda: evidence.search(conn, iid, "return interview")),
            ("search_rare", lambda: evidence.search(conn, iid, "jose's advocate")),
        ):
            ms, rows = median_ms(run)
            out[name] = {"median_ms": round(ms, 2), "rows": len(rows)}
    ledger.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000")
    parser.add_argument("--events", type=int, help="how many events to generate (default 1,000,000)")
    parser.add_argument("--inspections", type=int, default=20, help="inspections the events are spread over")
    parser.add_argument("--keep", type=Path, help="build the ledger in this folder and keep it")
    parser.add_argument("--rebuild-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rebuild_only:
        print(json.dumps(rebuild_phase(args.rebuild_only)))
        return 0
    events = args.events or (100_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{(folder / f'bench-{events}.db').resolve()}"
        started = time.perf_counter()
        built = generate(url, events, args.inspections)
        generated_s = time.perf_counter() - started
        print(f"generated {built['events']:,} events in {generated_s:.1f} s ({built['events'] / generated_s:,.0f}/s)")
        done = subprocess.run([sys.executable, __file__, "--rebuild-only", url], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            sys.exit(f"rebuild failed: {done.stderr.strip()}")
        rebuilt = json.loads(done.stdout.strip().splitlines()[-1])
        queries = query_phase(url, built["inspection"], built["code"])
    rate = rebuilt["events_per_s"]
    print(f"rebuild  {rebuilt['events']:,} events in {rebuilt['seconds']} s: {rate:,} events/s "
          f"(target >= {TARGET_RATE:,}; ratio {rate / TARGET_RATE:.2f})")
    print(f"memory   peak RSS {rebuilt['rss_mb_at_10pct']} MB after {rebuilt['probe_at_event']:,} events, "
          f"{rebuilt['rss_mb_at_end']} MB after {rebuilt['events']:,} "
          f"(ratio {rebuilt['rss_mb_at_end'] / max(rebuilt['rss_mb_at_10pct'], 0.1):.2f}; flat memory: close to 1)")
    for name, target in (("codings_code", TARGET_CODINGS_MS), ("search_common", TARGET_SEARCH_MS),
                         ("search_rare", TARGET_SEARCH_MS), ("codings_code_children", None)):
        q = queries[name]
        verdict = f"target < {target:.0f} ms; ratio {q['median_ms'] / target:.2f}" if target else "no target"
        print(f"{name:<22} median {q['median_ms']:7.2f} ms, {q['rows']:>5} rows ({verdict})")
    print(json.dumps({"benchmark": "retrieval", "events": built["events"], "inspections": args.inspections,
                      "generate_s": round(generated_s, 1), "rebuild": rebuilt, "queries": queries,
                      "python": sys.version.split()[0], "cores": os.cpu_count() or 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
