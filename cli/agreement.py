"""``evidence agreement|calibration``: blind double-coding rounds and how far coders agree; grade calibration.

``agreement assign|close`` and ``calibration create|rate`` are append paths: they never import SQLAlchemy or rich.
The statistics are ``ledger.agreement``'s; this module only gathers their inputs and prints them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session
from ledger.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ledger.agreement import AgreementReport, CalibrationReport
    from ledger.inspection import Inspection
    from projections.rounds import RoundCodings

UNITS = ("character", "segment", "source")
UNIT_MEANING = {
    "character": "each character (code point) of a round's source is one unit",
    "segment": "each cluster of overlapping coded segments, and each uncoded stretch between them, is one unit",
    "source": "each source of a round is one unit, applied if the coder used the code anywhere in it",
}
UNIT_PLURAL = {"character": "characters", "segment": "segments", "source": "sources"}
COEFFICIENTS = {
    "percent_agreement": "percent agreement: share of compared units on which two coders gave the same value "
                         "(pooled over coder pairs; ignores chance)",
    "kappa": "Cohen's kappa, per pair of coders, nominal (applied / not applied), with its Landis & Koch band",
    "alpha": "Krippendorff's alpha, nominal, all coders at once (>= .800 reliable, >= .667 tentative)",
}
#: The longest quote printed for a disagreement (code points).
QUOTE = 400


def _split(values: tuple[str, ...]) -> list[str]:
    """Comma-separated values, from one option or several uses of it."""
    return [part.strip() for item in values for part in item.split(",") if part.strip()]


# --- agreement rounds ----------------------------------------------------------------------------


@click.group()
def agreement() -> None:
    """Blind double-coding rounds, and how far coders agree on codes."""


@agreement.command("assign")
@click.option("--sources", "source_refs", multiple=True, required=True, metavar="ID,ID",
              help="The sources every coder codes (ids as 'evidence source list' prints; comma-separated or repeated).")
@click.option("--coders", multiple=True, required=True, metavar="A,B",
              help="Two or more inspectors who code them blind (comma-separated or repeated).")
@json_option
def assign(source_refs: tuple[str, ...], coders: tuple[str, ...], as_json: bool) -> None:
    """Open a blind double-coding round: until it is closed each coder sees only their own codings of SOURCES."""
    from ledger.inspection import load
    from ledger.rounds import assign as open_round

    s = session()
    opened = s.attempt(lambda: open_round(s.ledger, s.actor, load(s.ledger, s.inspection), _split(source_refs),
                                          _split(coders)))
    assert opened.id is not None
    data = {"round": opened.number, "id": opened.id.hex, "sources": [x.hex for x in opened.sources],
            "coders": list(opened.coders)}
    if as_json:
        out_json(data)
        return
    click.echo(
        f"Opened agreement round {opened.number} ({opened.id.hex[:8]}) on {len(opened.sources)} source(s) for "
        f"{', '.join(opened.coders)}; each sees only their own codings of them until "
        f"'evidence agreement close {opened.number}'."
    )


@agreement.command("close")
@click.argument("round_ref", metavar="ROUND")
def close(round_ref: str) -> None:
    """Close ROUND (its number, or its id): its codings become visible and its agreement can be measured."""
    from ledger.inspection import load
    from ledger.rounds import close as close_round
    from ledger.rounds import load as load_round

    s = session()

    def attempt() -> int:
        inspection = load(s.ledger, s.inspection)
        state = load_round(s.ledger, inspection, round_ref)
        close_round(s.ledger, s.actor, inspection, state)
        return state.number

    number = s.attempt(attempt)
    click.echo(f"Closed agreement round {number}; measure it with 'evidence agreement codes --round {number}'.")


@agreement.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the current inspection's rounds: sources, coders, status, and (open rounds) codings per coder."""
    from ledger.inspection import load
    from projections import ready
    from projections.rounds import round_list, round_progress

    s = session()
    inspection = load(s.ledger, s.inspection)
    inspection.require(s.actor, "read")
    engine = ready(s.ledger)
    with engine.connect() as conn:
        rows = round_list(conn, inspection.id)
        for row in rows:
            row["codings_so_far"] = round_progress(conn, inspection.id, row["number"]) if row["open"] else None
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo("No agreement rounds yet; open one with 'evidence agreement assign --sources ... --coders A,B'.")
    for row in rows:
        status = "open" if row["open"] else f"closed by {row['closed_by']}"
        click.echo(f"round {row['number']}  {row['id'][:8]}  {status:<20} coders {', '.join(row['coders'])}; "
                   f"sources {', '.join(x[:8] for x in row['sources'])}")
        if row["codings_so_far"] is not None:
            done = ", ".join(f"{coder} {count}" for coder, count in row["codings_so_far"].items())
            click.echo(f"          codings so far (counts only, the round is blind): {done}")


def _round_numbers(conn: Connection, inspection: Inspection, round_ref: str | None) -> list[int]:
    """The closed rounds to measure: the one named, or every closed round."""
    from ledger.errors import NotFound
    from projections.rounds import round_list

    rows = round_list(conn, inspection.id)
    if round_ref is None:
        closed = [r["number"] for r in rows if not r["open"]]
        if not closed:
            raise BadInput("No agreement round has been closed yet; close one with 'evidence agreement close N'.")
        return closed
    text = round_ref.strip().lower()
    found = [r for r in rows if (text.isdigit() and len(text) < 4 and r["number"] == int(text))
             or (len(text) >= 4 and r["id"].startswith(text))]
    if len(found) != 1:
        raise NotFound(f"Inspection {inspection.reference} has no agreement round {round_ref}; "
                       "see 'evidence agreement list'.")
    if found[0]["open"]:
        number = found[0]["number"]
        raise BadInput(f"Agreement round {number} is still open and blind; the lead closes it with "
                       f"'evidence agreement close {number}' before agreement is measured.")
    return [found[0]["number"]]


@agreement.command("codes")
@click.option("--round", "round_ref", metavar="R", help="Measure this closed round (number or id); default: every closed round.")
@click.option("--code", metavar="X", help="Only this code (id or label); default: each code the coders applied.")
@click.option("--unit", type=click.Choice(UNITS), default="character", show_default=True,
              help="What one unit of agreement is: a character, a coded segment, or a whole source.")
@click.option("--exclude-uncoded", is_flag=True, help="Leave out units no coder applied the code to.")
@json_option
def codes(round_ref: str | None, code: str | None, unit: str, exclude_uncoded: bool, as_json: bool) -> None:
    """Agreement between the coders of closed rounds, per code and overall, with the passages they differ on."""
    from ledger.agreement import agreement_report
    from ledger.codebook import load as load_codebook
    from ledger.inspection import load
    from projections import ready
    from projections.rounds import hidden_for, round_codings

    s = session()
    inspection = load(s.ledger, s.inspection)
    inspection.require(s.actor, "read")
    engine = ready(s.ledger)
    code_id = load_codebook(s.ledger, inspection).resolve(code) if code is not None else None
    with engine.connect() as conn:
        inputs = round_codings(conn, inspection.id, _round_numbers(conn, inspection, round_ref), code_id)
        hidden = hidden_for(conn, inspection.id, s.actor)
    for coding, position in zip(inputs.codings, inputs.positions):
        if hidden({"source": inputs.places[coding.source]["source"], "coder": coding.coder, "position": position}):
            raise BadInput(
                f"Round {inputs.places[coding.source]['round']} shares source "
                f"{inputs.places[coding.source]['source'][:8]} with an open round in which {s.actor} codes blind; "
                "its agreement can be shown once that round is closed."
            )
    report = agreement_report(inputs.codings, inputs.lengths, inputs.coders, inputs.codes, unit,  # type: ignore[arg-type]
                              exclude_uncoded, also_read=inputs.also_read)
    data = _codes_data(report, inputs)
    if as_json:
        out_json(data)
        return
    _print_codes(data)


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE else flat[: QUOTE - 1] + "…"


def _codes_data(report: AgreementReport, inputs: RoundCodings) -> dict[str, Any]:
    import msgspec

    plain = msgspec.to_builtins(report)
    disagreements = []
    for code_id, found in report.disagreements.items():
        for d in found:
            place = inputs.places[d.source]
            text = inputs.texts[place["source"]]
            passages = [
                {"coder": c.coder, "start": c.start, "end": c.end, "quote": _cut(text[c.start:c.end])}
                for c in sorted(inputs.codings, key=lambda c: (c.start, c.end, c.coder))
                if c.source == d.source and c.code == code_id and c.start < d.end and d.start < c.end
            ]
            disagreements.append({
                "code": code_id, "round": place["round"], "source": place["source"], "title": place["title"],
                "start": d.start, "end": d.end, "quote": _cut(text[d.start:d.end]),
                "applied_by": list(d.applied_by), "not_applied_by": list(d.not_applied_by), "passages": passages,
            })
    return {
        "rounds": inputs.rounds, "coders": inputs.coders, "unit": report.unit, "unit_meaning": UNIT_MEANING[report.unit],
        "exclude_uncoded": report.exclude_uncoded, "coefficients": COEFFICIENTS,
        "codes": plain["codes"], "overall": plain["overall"], "disagreements": disagreements,
    }


def _figure(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def _print_codes(data: dict[str, Any]) -> None:
    plural = UNIT_PLURAL[data["unit"]]
    rounds = ", ".join(map(str, data["rounds"]))
    click.echo(f"Coding agreement, round(s) {rounds}; coders {', '.join(data['coders'])}.")
    uncoded = "units no coder applied the code to are left out" if data["exclude_uncoded"] else "uncoded text counts"
    click.echo(f"Unit: {data['unit']} — {data['unit_meaning']}; {uncoded}.")
    click.echo("Figures: % = " + COEFFICIENTS["percent_agreement"] + ";")
    click.echo("         κ = " + COEFFICIENTS["kappa"] + ";")
    click.echo("         α = " + COEFFICIENTS["alpha"] + ".")
    click.echo("")
    click.echo(f"{'code':<40} {plural:>10} {'%':>6} {'α':>6}  reading")
    for row in [*data["codes"], data["overall"]]:
        name = row["code"] if row["code"] is not None else "all codes (pooled)"
        click.echo(f"{name:<40} {row['units']:>10} {_figure(row['percent_agreement']):>6} "
                   f"{_figure(row['alpha']):>6}  {row['reading']}")
        for p in row["pairs"]:
            if p["kappa"] is None:
                click.echo(f"    {p['coder_a']}–{p['coder_b']}: no unit coded by both")
            else:
                click.echo(f"    {p['coder_a']}–{p['coder_b']}: κ {p['kappa']:.3f} ({p['band']}), "
                           f"% {p['percent_agreement']:.3f} over {p['units']} {plural}")
    if not data["codes"]:
        click.echo("No coder applied a code in these rounds; there is nothing to compare yet.")
    click.echo("")
    if not data["disagreements"]:
        click.echo("No passage where the coders differ.")
        return
    click.echo(f"Passages where the coders differ, to discuss ({len(data['disagreements'])}):")
    for d in data["disagreements"]:
        click.echo(f"  {d['code']} — round {d['round']}, {d['title']} ({d['source'][:8]}) {d['start']}:{d['end']}: "
                   f"applied by {', '.join(d['applied_by'])}; not by {', '.join(d['not_applied_by'])}")
        click.echo(f"    “{d['quote']}”")
        if data["unit"] == "source":
            for p in d["passages"]:
                click.echo(f"      {p['coder']} coded {p['start']}:{p['end']} “{p['quote']}”")


# --- grade calibration ---------------------------------------------------------------------------


@click.group()
def calibration() -> None:
    """Grade calibration: everyone grades the same vignettes, to see whether the grade scale is applied alike."""


@calibration.command("create")
@click.option("--vignettes", "path", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="The vignettes: .csv (id,title,text), .jsonl ({id, title, text} a line) or .md (## ID: Title).")
@json_option
def create(path: Path, as_json: bool) -> None:
    """Set up the current inspection's calibration exercise with the vignettes in FILE."""
    from ledger.calibration import create as create_calibration
    from ledger.calibration import read_vignettes
    from ledger.inspection import load

    found = read_vignettes(path)
    s = session()
    s.attempt(lambda: create_calibration(s.ledger, s.actor, load(s.ledger, s.inspection), found))
    if as_json:
        out_json([{"id": v.id, "title": v.title} for v in found])
        return
    click.echo(f"Created the calibration exercise of {s.inspection} with {len(found)} vignette(s): "
               f"{', '.join(v.id for v in found)}.")


@calibration.command("show")
@click.argument("vignette", required=False)
@json_option
def show(vignette: str | None, as_json: bool) -> None:
    """Show the vignettes to grade (all, or VIGNETTE) with their text."""
    from ledger.calibration import load as load_calibration
    from ledger.inspection import load

    s = session()
    inspection = load(s.ledger, s.inspection)
    inspection.require(s.actor, "read")
    state = load_calibration(s.ledger, inspection)
    chosen = list(state.vignettes.values())
    if vignette is not None:
        from ledger.calibration import find_vignette

        chosen = [state.vignettes[find_vignette(state, vignette)]]
    if as_json:
        out_json([{"id": v.id, "title": v.title, "text": v.text} for v in chosen])
        return
    for v in chosen:
        click.echo(f"## {v.id}: {v.title}\n\n{v.text}\n")


@calibration.command("rate")
@click.argument("vignette")
@click.argument("grade")
@click.option("--round", "round_", type=int, metavar="N", help="The calibration round (default: the latest, 1 at first).")
def rate(vignette: str, grade: str, round_: int | None) -> None:
    """Record your GRADE (outstanding, good, requires-improvement, inadequate, or 1-4) for VIGNETTE."""
    from ledger.calibration import rate as rate_vignette
    from ledger.inspection import load

    s = session()
    event = s.attempt(lambda: rate_vignette(s.ledger, s.actor, load(s.ledger, s.inspection), vignette, grade, round_))
    click.echo(f"{s.actor} graded vignette {event.vignette} {event.grade} in round {event.round}.")


@calibration.command("report")
@json_option
def report(as_json: bool) -> None:
    """Agreement on grades: ordinal alpha overall and per round, the trend, grade confusion, and leniency."""
    import msgspec

    from ledger.agreement import calibration_report
    from ledger.contracts import GRADES
    from ledger.inspection import load
    from projections import ready
    from projections.rounds import calibration_of, rating_list

    s = session()
    inspection = load(s.ledger, s.inspection)
    inspection.require(s.actor, "read")
    with ready(s.ledger).connect() as conn:
        exercise = calibration_of(conn, inspection.id)
        if exercise is None:
            raise BadInput(f"Inspection {inspection.reference} has no calibration exercise yet; create one with "
                           "'evidence calibration create --vignettes FILE'.")
        found = rating_list(conn, exercise["id"])
    result = calibration_report(found, GRADES)
    if as_json:
        out_json({"ratings": len(found), "coefficient": "Krippendorff's alpha, ordinal; a unit is a vignette in a "
                  "round", **msgspec.to_builtins(result)})
        return
    _print_calibration(result, len(found))


def _print_calibration(r: CalibrationReport, count: int) -> None:
    click.echo(f"Grade calibration: {count} rating(s) by {len(r.raters)} rater(s) ({', '.join(r.raters) or 'none'}).")
    scale = " > ".join(r.grades)
    click.echo(f"Krippendorff's alpha, ordinal ({scale}); a unit is a vignette in a round:")
    if r.alpha is None:
        click.echo("  not measurable yet: no vignette has grades from two raters in the same round.")
        return
    click.echo(f"  all rounds: α {r.alpha:.3f} ({r.reading})")
    for rnd in r.rounds:
        shown = "not measurable" if rnd.alpha is None else f"α {rnd.alpha:.3f} ({rnd.reading})"
        click.echo(f"  round {rnd.round}: {shown} over {rnd.vignettes} vignette(s) graded by two or more")
    if r.trend is not None:
        click.echo(f"  trend: {r.trend} ({r.alpha_change:+.3f} from the first to the last measured round)")
    click.echo("Leniency: mean grade steps above the consensus (median of the other raters); + = more lenient:")
    for item in r.leniency:
        shown = "n/a" if item.leniency is None else f"{item.leniency:+.2f}"
        click.echo(f"  {item.rater:<20} {shown:>6} over {item.compared} vignette(s)")
    legend = ", ".join(f"{i} {g}" for i, g in enumerate(r.grades, 1))
    click.echo(f"Confusion of grades (rows: first rater, columns: second; {legend}):")
    width = max(len(g) for g in r.grades)
    for c in r.confusion:
        if not c.compared:
            click.echo(f"  {c.rater_a} × {c.rater_b}: no vignette graded by both in the same round")
            continue
        click.echo(f"  {c.rater_a} × {c.rater_b}: exact agreement {c.exact_agreement:.2f} over {c.compared} vignette(s)")
        click.echo("    " + " " * width + "".join(f"{i:>4}" for i in range(1, len(r.grades) + 1)))
        for grade, counts in zip(c.grades, c.counts):
            click.echo(f"    {grade:<{width}}" + "".join(f"{n:>4}" for n in counts))
