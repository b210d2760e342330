"""``evidence hypothesis``: state hunches, link evidence to them, search for what could refute them, decide.

``state``, ``link``, ``revise``, ``accept`` and ``reject`` are appends (no SQLAlchemy); ``check`` reads the
codings from the projections, then logs the search; ``list``, ``show`` and ``matrix`` read the projections.
While a blind double-coding round is open, codings it hides from the person asking are neither searched by
``check`` nor shown as links by ``list``, ``show`` and ``matrix``; each says how many it withheld.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.hypothesis import Candidate, Checked

GRADES = ("outstanding", "good", "requires-improvement", "inadequate")
_because = click.option("--because", "rationale", required=True, metavar="TEXT",
                        help="Why (kept in the ledger).")
_grade = click.option("--provisional-grade", type=click.Choice(GRADES), help="The grade the hypothesis points to.")
_expects = click.option("--expects", type=click.Choice(("strength", "weakness")),
                        help="What its evidence should show (default: from the provisional grade).")


def _areas(framework: str) -> list[str] | None:
    """The judgment areas of a framework the plugins know (None when none registers it)."""
    from ledger.pluginmanager import registered

    frameworks = registered("register_frameworks")
    return [a.id for a in frameworks[framework].areas] if framework in frameworks else None


def _decide(command: Any, reference: str, *args: Any, **kwargs: Any) -> str:
    """Run a hypothesis command against freshly loaded state, retrying on a concurrent change; returns the id."""
    from ledger import hypothesis
    from ledger.inspection import load

    s = session()

    def attempt() -> str:
        inspection = load(s.ledger, s.inspection)
        found = hypothesis.load(s.ledger, reference, inspection)
        command(s.ledger, s.actor, inspection, found, *args, **kwargs)
        assert found.id is not None
        return found.id.hex[:8]

    return s.attempt(attempt)


@click.group()
def hypothesis() -> None:
    """State hypotheses, link evidence, run the disconfirming-evidence search, and accept or reject them."""


@hypothesis.command("state")
@click.argument("text")
@click.option("--area", required=True, metavar="AREA", help="The judgment area it is about (e.g. help-protection).")
@click.option("--codes", required=True, metavar="X,Y", help="The codes its evidence falls under, comma-separated.")
@_grade
@_expects
@json_option
def state(text: str, area: str, codes: str, provisional_grade: str | None, expects: str | None, as_json: bool) -> None:
    """State hypothesis TEXT about AREA over the codes its evidence falls under."""
    from ledger import hypothesis as hyp
    from ledger.codebook import load as load_codebook
    from ledger.inspection import load

    s = session()

    def attempt() -> Any:
        inspection = load(s.ledger, s.inspection)
        return hyp.state(
            s.ledger, s.actor, inspection, load_codebook(s.ledger, inspection), text, area=area,
            codes=[c for c in (p.strip() for p in codes.split(",")) if c], provisional_grade=provisional_grade,
            expects=expects, areas=_areas(inspection.framework),
        )

    new_id = s.attempt(attempt)
    if as_json:
        out_json({"id": new_id.hex, "short": new_id.hex[:8]})
        return
    click.echo(f"Stated hypothesis {new_id.hex[:8]} about {area}.")


@hypothesis.command("link")
@click.argument("reference", metavar="HYPOTHESIS")
@click.argument("coding_ref", metavar="CODING")
@click.option("--supports", is_flag=True, help="The coding supports the hypothesis.")
@click.option("--contradicts", is_flag=True, help="The coding contradicts it.")
@click.option("--neutral", is_flag=True, help="The coding bears on it but neither way.")
def link(reference: str, coding_ref: str, supports: bool, contradicts: bool, neutral: bool) -> None:
    """Link CODING to HYPOTHESIS as supporting, contradicting or neutral evidence."""
    chosen = [name for name, on in (("supports", supports), ("contradicts", contradicts), ("neutral", neutral)) if on]
    if len(chosen) > 1:
        raise click.UsageError("Give one of --supports, --contradicts or --neutral, not several.")
    stance = chosen[0] if chosen else None
    from ledger import hypothesis as hyp
    from ledger.coding import load as load_coding
    from ledger.source import Source

    if stance is None:
        raise click.UsageError("Say how the coding bears on it: --supports, --contradicts or --neutral.")

    def command(ledger: Any, actor: str, inspection: Any, found: Any) -> None:
        coding = load_coding(ledger, coding_ref, inspection)
        case = ledger.get(Source, coding.source, what="source").case if coding.source else None
        hyp.link(ledger, actor, inspection, found, coding, stance, case)

    short = _decide(command, reference)
    click.echo(f"Linked coding {coding_ref} to hypothesis {short} ({stance}).")


def candidates(ledger: Any, inspection: Any, found: Any) -> tuple[list[Candidate], list[str], int]:
    """The current codings under the hypothesis's codes, the inspection's cases, and the position they reflect."""
    pool, cases, through, _ = visible_candidates(ledger, inspection, found, None)
    return pool, cases, through


def visible_candidates(
    ledger: Any, inspection: Any, found: Any, hidden: Callable[[dict[str, Any]], bool] | None,
) -> tuple[list[Candidate], list[str], int, int]:
    """As ``candidates``, without the codings ``hidden`` hides; the last item counts the candidates withheld."""
    import uuid

    from ledger.coding import Valence
    from ledger.hypothesis import Candidate
    from projections import evidence, ready

    through = ledger.last_position()
    engine = ready(ledger)
    rows: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for code in found.codes:
            for row in evidence.codings(conn, inspection.id, code=code, with_children=True, context=0):
                rows.setdefault(row["id"], row)
        cases = sorted({src["case"] for src in evidence.sources(conn, inspection.id, current_only=True) if src["case"]})
    placed = [r for r in rows.values() if not r["unplaced"]]
    shown = [r for r in placed if hidden is None or not hidden(r)]
    out = [
        Candidate(coding=uuid.UUID(r["id"]), code=r["code"], valence=Valence(r["valence"]), source=uuid.UUID(r["source"]),
                  coder=r["coder"], case=r["case"])
        for r in shown
    ]
    return out, cases, through, len(placed) - len(shown)


@hypothesis.command("check")
@click.argument("reference", metavar="HYPOTHESIS")
@json_option
def check(reference: str, as_json: bool) -> None:
    """Search for evidence against HYPOTHESIS (every inspector, every case), log the search, and print it."""
    from cli.retrieval import WITHHELD, blind_filter
    from ledger import hypothesis as hyp
    from ledger.codebook import load as load_codebook
    from ledger.events import describe
    from ledger.inspection import load
    from projections import ready

    s = session()
    seen: dict[str, Any] = {}

    def attempt() -> Checked:
        inspection = load(s.ledger, s.inspection)
        found = hyp.load(s.ledger, reference, inspection)
        hidden = blind_filter(ready(s.ledger), inspection)
        pool, cases, through, withheld = visible_candidates(s.ledger, inspection, found, hidden)
        seen.update({c.coding.hex: c for c in pool}, hypothesis=found, withheld=withheld)
        return hyp.check(s.ledger, s.actor, inspection, found, load_codebook(s.ledger, inspection), pool, cases,
                         through=through)

    event = s.attempt(attempt)
    if as_json:
        out_json(describe(event) | {"withheld": seen["withheld"]})
        return
    found, c = seen["hypothesis"], event.counts
    click.echo(f"Disconfirming-evidence search for hypothesis {found.id.hex[:8]} (expects {found.expects}): "
               f"codings showing a {event.query.against} under {', '.join(found.codes)} and their children.")
    click.echo(f"  searched {c.searched} coding(s) by {c.coders} inspector(s) in {c.sources} source(s): "
               f"{c.consistent} consistent, {c.contrary} contrary ({c.contrary_unlinked} not linked), "
               f"{c.neutral} neutral")
    unlinked = set(event.contrary_unlinked)
    for cid in event.contrary:
        item = seen[cid.hex]
        mark = "  NOT LINKED" if cid in unlinked else ""
        click.echo(f"  {cid.hex[:8]}  {item.valence}  {item.code}  case {item.case or '-'}  by {item.coder}{mark}")
    if event.cases_not_considered:
        click.echo(f"  cases not yet considered: {', '.join(event.cases_not_considered)}")
    if seen["withheld"]:
        click.echo(f"  {WITHHELD.format(n=seen['withheld'], what='coding(s)')}; not searched")
    click.echo("Logged as a Hypothesis.Checked event.")


@hypothesis.command("revise")
@click.argument("reference", metavar="HYPOTHESIS")
@click.argument("text")
@_because
@_grade
@_expects
def revise(reference: str, text: str, rationale: str, provisional_grade: str | None, expects: str | None) -> None:
    """Reword HYPOTHESIS as TEXT (and change its provisional grade or direction), saying why."""
    from ledger import hypothesis as hyp

    short = _decide(hyp.revise, reference, text, rationale, provisional_grade=provisional_grade, expects=expects)
    click.echo(f"Revised hypothesis {short}.")


@hypothesis.command("accept")
@click.argument("reference", metavar="HYPOTHESIS")
@_because
def accept(reference: str, rationale: str) -> None:
    """Accept HYPOTHESIS (needs a check made since its last new link), saying why."""
    from ledger import hypothesis as hyp

    click.echo(f"Accepted hypothesis {_decide(hyp.accept, reference, rationale)}.")


@hypothesis.command("reject")
@click.argument("reference", metavar="HYPOTHESIS")
@_because
def reject(reference: str, rationale: str) -> None:
    """Reject HYPOTHESIS, saying why."""
    from ledger import hypothesis as hyp

    click.echo(f"Rejected hypothesis {_decide(hyp.reject, reference, rationale)}.")


def _read(query: Any, *args: Any) -> tuple[Any, set[str]]:
    """What ``query`` returns for the current inspection, and the codings open blind rounds hide from the reader."""
    from cli.retrieval import hidden_codings
    from ledger.inspection import load
    from projections import ready

    s = session()
    inspection = load(s.ledger, s.inspection)
    engine = ready(s.ledger)
    with engine.connect() as conn:
        data = query(conn, inspection.id, *args)
    return data, hidden_codings(engine, inspection)


def _withhold(head: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """A hypothesis without its links to hidden codings (counts follow) nor hidden codings among its checks' finds.

    ``withheld`` says how many links were taken out; the counts a check recorded stay as they were logged.
    """
    links = [ln for ln in head["links"] if ln["coding_id"] not in hidden]
    current = [ln for ln in links if ln["current"]]
    checks = [
        ch | {key: [cid for cid in ch[key] if cid not in hidden] for key in ("contrary", "contrary_unlinked")}
        for ch in head["checks"]
    ]
    counts = {stance: sum(ln["stance"] == stance for ln in current) for stance in ("supports", "contradicts", "neutral")}
    return head | counts | {"links": links, "checks": checks, "withheld": len(head["links"]) - len(links)}


@hypothesis.command("list")
@click.option("--area", metavar="AREA", help="Only hypotheses about this judgment area.")
@json_option
def list_(area: str | None, as_json: bool) -> None:
    """List the current inspection's hypotheses with their evidence counts and status."""
    from projections.hypotheses import hypotheses

    found, hidden = _read(hypotheses, area)
    rows = [_withhold(h, hidden) for h in found]
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo("No hypotheses yet; state one with 'evidence hypothesis state TEXT --area AREA --codes X,Y'.")
    for h in rows:
        checked = "checked" if h["checked_since_change"] else "unchecked"
        view = h["provisional_grade"] or f"expects {h['expects']}"
        click.echo(f"{h['short']}  {h['status']:<8} {h['area']:<16} {view:<22} +{h['supports']} -{h['contradicts']} "
                   f"~{h['neutral']}  {checked:<9}  {h['text']}")
    withheld = sum(h["withheld"] for h in rows)
    if withheld:
        from cli.retrieval import WITHHELD

        click.echo(WITHHELD.format(n=withheld, what="linked coding(s)") + "; not counted.")


@hypothesis.command("show")
@click.argument("reference", metavar="HYPOTHESIS")
@json_option
def show(reference: str, as_json: bool) -> None:
    """Show HYPOTHESIS: its history, linked evidence and disconfirming-evidence checks."""
    from cli.retrieval import WITHHELD, hidden_codings
    from ledger import hypothesis as hyp
    from ledger.errors import NotFound
    from ledger.inspection import load
    from projections import ready
    from projections.hypotheses import hypothesis as one

    s = session()
    inspection = load(s.ledger, s.inspection)
    found = hyp.load(s.ledger, reference, inspection)
    engine = ready(s.ledger)
    with engine.connect() as conn:
        data = one(conn, found.id)
    if data is None:
        raise NotFound(f"Hypothesis {reference} is not in the projections; run 'evidence projections rebuild'.")
    data = _withhold(data, hidden_codings(engine, inspection))
    if as_json:
        out_json(data)
        return
    click.echo(f"{data['short']}  {data['status']}  {data['area']}: {data['text']}")
    click.echo(f"  expects {data['expects']}; provisional grade {data['provisional_grade'] or 'none'}; codes "
               f"{', '.join(data['codes'])}")
    for st in data["steps"]:
        why = f" because {st['rationale']}" if st["rationale"] else ""
        click.echo(f"  {st['position']:>6}  {st['at'][:19]}  {st['actor']}  {st['step']}{why}")
    for ln in data["links"]:
        gone = "" if ln["current"] else "  (no longer current)"
        click.echo(f"  link  {ln['coding_id'][:8]}  {ln['stance']:<11} {ln['valence']:<8} {ln['code']}  case "
                   f"{ln['case'] or '-'}{gone}")
    if data["withheld"]:
        click.echo(f"  {WITHHELD.format(n=data['withheld'], what='linked coding(s)')}")
    for ch in data["checks"]:
        counts = ch["counts"]
        click.echo(f"  check {ch['position']:>6}  by {ch['actor']}: {counts['contrary']} contrary "
                   f"({counts['contrary_unlinked']} not linked), {counts['cases_not_considered']} case(s) not "
                   "considered")


@hypothesis.command("matrix")
@click.option("--area", required=True, metavar="AREA", help="The judgment area whose hypotheses compete.")
@json_option
def matrix(area: str, as_json: bool) -> None:
    """Show the competing-hypotheses matrix of AREA: each linked coding against each hypothesis."""
    from projections.hypotheses import matrix as build

    built, hidden = _read(build, area)
    data = _without_rows(built, hidden)
    if as_json:
        out_json(data)
        return
    heads = data["hypotheses"]
    if not heads:
        click.echo(f"No hypotheses about {area} yet.")
        return
    click.echo("Cells: C consistent, I inconsistent, N neutral; lower case when read from the valence, not linked.")
    click.echo(f"{'coding':<10}{'valence':<10}" + "".join(f"{h['short']:<10}" for h in heads) + "diagnostic")
    for row in data["evidence"]:
        cells = "".join(
            f"{(c['cell'][0].upper() if c['linked'] else c['cell'][0]):<10}" for c in row["cells"]
        )
        click.echo(f"{row['short']:<10}{row['valence']:<10}{cells}{'yes' if row['diagnostic'] else 'no'}")
    for h, total in zip(heads, data["diagnostic_summary"], strict=True):
        click.echo(f"{h['short']}: {total['inconsistent']} inconsistent, {total['consistent']} consistent "
                   f"(diagnostic evidence) — {h['text']}")
    if data["withheld"]:
        from cli.retrieval import WITHHELD

        click.echo(WITHHELD.format(n=data["withheld"], what="linked coding(s)") + "; not in the matrix.")


def _without_rows(data: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """The matrix without rows for hidden codings (its summary counted again); ``withheld`` says how many went."""
    rows = [row for row in data["evidence"] if row["coding"] not in hidden]
    summary = []
    for index, total in enumerate(data["diagnostic_summary"]):
        column = [row["cells"][index]["cell"] for row in rows if row["diagnostic"]]
        summary.append({"hypothesis": total["hypothesis"],
                        **{k: column.count(k) for k in ("consistent", "inconsistent", "neutral")}})
    return data | {"evidence": rows, "diagnostic_summary": summary, "withheld": len(data["evidence"]) - len(rows)}
