"""``evidence codings|search|coverage|vignettes``: read the evidence back.

Quotes in their context with provenance, phrases found in the sources, what is not yet coded, and the clearest
examples of strong and weak practice under a theme. Each command catches the projections up, then calls the
query functions in ``projections.evidence`` and prints them (``--json`` prints exactly what they return).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from ledger.application import Ledger
    from ledger.inspection import Inspection

VALENCES = ("strength", "weakness", "neutral")
CONTEXT = 60  # characters either side of a quote, unless --context says otherwise
_SPACES = re.compile(r"\s+")


def _flat(text: str) -> str:
    """Text on one line (CR, LF and tabs shown as single spaces); --json keeps the exact text."""
    return _SPACES.sub(" ", text)


def _open() -> tuple[Ledger, Inspection, Engine]:
    """The ledger, the current inspection, and the projections caught up to the end of the log."""
    from ledger.inspection import load
    from projections import ready

    s = session()
    inspection = load(s.ledger, s.inspection)
    return s.ledger, inspection, ready(s.ledger)


def blind_filter(engine: Engine, inspection: Inspection) -> Callable[[dict[str, Any]], bool] | None:
    """What open blind double-coding rounds hide from the person acting (nobody named: every round coding).

    None when no round of the inspection is open, so the query functions keep their fast paths.
    """
    from projections.rounds import hidden_for, round_list

    assert inspection.id is not None
    with engine.connect() as conn:
        if not round_list(conn, inspection.id, only_open=True):
            return None
    return hidden_for(engine, inspection.id, session().viewer)


def hidden_codings(engine: Engine, inspection: Inspection) -> set[str]:
    """The ids (hex) of the inspection's codings, withdrawn ones too, that open rounds hide from the person acting.

    For commands that show things pointing at codings (memos, hypothesis links); empty when no round is open.
    """
    from projections.evidence import codings as find_codings

    hidden = blind_filter(engine, inspection)
    if hidden is None:
        return set()
    with engine.connect() as conn:
        rows = find_codings(conn, inspection.id, include_withdrawn=True, context=0)
    return {row["id"] for row in rows if hidden(row)}


WITHHELD = "{n} {what} withheld while a blind coding round is open"


def _code(ledger: Ledger, inspection: Inspection, ref: str) -> str:
    """A code id from what the user typed (full id, unique suffix or label), or one clear error."""
    from ledger.codebook import load

    return load(ledger, inspection).resolve(ref)


def _provenance(row: dict[str, Any]) -> str:
    case = f" · case {row['case']}" if row.get("case") else ""
    return f"{row['title']} · {row['kind']}{case} · source {row['source'][:8]}"


def _echo_coding(row: dict[str, Any], width: int, prefix: str = "") -> None:
    """One coding: id, valence, code; the quote (bold) in its context; provenance; a merge; the note."""
    band = f" ({row['band']})" if row["band"] else ""
    flags = "".join(f" [{flag.replace('_', ' ')}]" for flag in ("withdrawn", "source_withdrawn", "unplaced")
                    if row.get(flag))
    click.echo(f"{prefix}{row['id'][:8]}  {row['valence']}{band}  {row['code']} — {row['label']}{flags}")
    indent = prefix + "    "
    more_before = "…" if row["start"] > len(row["before"]) else ""
    more_after = "…" if width and len(row["after"]) >= width else ""
    quote = click.style(_flat(row["quote"]), bold=True)
    click.echo(f"{indent}“{more_before}{_flat(row['before'])}{quote}{_flat(row['after'])}{more_after}”")
    click.echo(f"{indent}{_provenance(row)}; coded by {row['coder']} at {row['coded_at']}")
    if row["original_code"] != row["code"]:
        click.echo(f"{indent}coded as {row['original_code']} (merged into {row['code']})")
    if row["note"]:
        click.echo(f"{indent}note: {_flat(row['note'])}")


@click.command()
@click.option("--code", "code_ref", metavar="CODE", help="Only codings under this code (its id, id ending or label).")
@click.option("--with-children", is_flag=True, help="With --code: also codings under the code's descendants.")
@click.option("--valence", type=click.Choice(VALENCES), help="Only codings of this valence.")
@click.option("--case", metavar="ID", help="Only codings on sources about this case.")
@click.option("--coder", metavar="PERSON", help="Only codings made by this person.")
@click.option("--kind", metavar="KIND", help="Only codings on sources of this kind (e.g. case-record).")
@click.option("--source", "source_ref", metavar="ID", help="Only codings on this source (id prefix).")
@click.option("--include-withdrawn", is_flag=True, help="Also withdrawn codings and codings on withdrawn sources.")
@click.option("--context", "width", type=click.IntRange(0, 5000), default=CONTEXT, show_default=True,
              help="Characters of text shown either side of each quote.")
@json_option
def codings(
    code_ref: str | None, with_children: bool, valence: str | None, case: str | None, coder: str | None,
    kind: str | None, source_ref: str | None, include_withdrawn: bool, width: int, as_json: bool,
) -> None:
    """List coded passages: each exact quote in its context, with its code, valence and provenance."""
    from ledger.errors import BadInput
    from ledger.source import load as load_source
    from ledger.source import parse_kind
    from projections.evidence import codings as find_codings

    if with_children and code_ref is None:
        raise BadInput("--with-children needs --code CODE: name the code whose descendants to include.")
    ledger, inspection, engine = _open()
    code = _code(ledger, inspection, code_ref) if code_ref is not None else None
    source = load_source(ledger, source_ref, inspection).id if source_ref is not None else None
    with engine.connect() as conn:
        rows = find_codings(
            conn, inspection.id, code=code, with_children=with_children, valence=valence, case=case, coder=coder,
            kind=str(parse_kind(kind)) if kind else None, source=source, include_withdrawn=include_withdrawn,
            context=width, hidden=blind_filter(engine, inspection),
        )
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo("No codings match; see 'evidence code tree --with-counts' for where the codings are.")
        return
    for row in rows:
        _echo_coding(row, width)
    click.echo(f"{len(rows)} coding(s).")


@click.command()
@click.argument("phrase")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="Show at most this many sources.")
@json_option
def search(phrase: str, limit: int, as_json: bool) -> None:
    """Find PHRASE (its words in a row; case and accents ignored) in the current sources' text."""
    from projections.evidence import search as find

    _, inspection, engine = _open()
    with engine.connect() as conn:
        rows = find(conn, inspection.id, phrase, limit=limit)
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo(f"No current source holds {phrase!r}.")
        return
    for row in rows:
        case = f", case {row['case']}" if row["case"] else ""
        first = row["hits"][0]
        click.echo(f"{row['source'][:8]}  {row['title']} ({row['kind']}{case}) — {row['count']} hit(s), "
                   f"first at {first[0]}:{first[1]}")
        shown, cursor = "", 0
        for start, end in row["snippet_hits"]:
            shown += row["snippet"][cursor:start] + click.style(row["snippet"][start:end], bold=True)
            cursor = end
        click.echo(f"    {shown}{row['snippet'][cursor:]}")


def _table(rows: list[dict[str, Any]], key: str, label: str) -> None:
    click.echo(f"{label:<24} {'codings':>8} {'registered':>11} {'coded':>6}")
    for row in rows:
        name = " ".join(str(row[k]) for k in key.split("+"))
        click.echo(f"{name:<24} {row['codings']:>8} {row['sources_registered']:>11} {row['sources_coded']:>6}")


@click.command()
@json_option
def coverage(as_json: bool) -> None:
    """Show which sources are not yet coded, and codings and sources per inspector and per day (UTC)."""
    from projections.evidence import coverage as measure

    _, inspection, engine = _open()
    with engine.connect() as conn:
        data = measure(conn, inspection.id, hidden=blind_filter(engine, inspection))
    if as_json:
        out_json(data)
        return
    click.echo(f"{data['sources']} current source(s): {data['coded']} coded, {len(data['uncoded'])} not yet coded; "
               f"{data['codings']} coding(s).")
    if data["uncoded"]:
        click.echo("\nNot yet coded:")
        for row in data["uncoded"]:
            click.echo(f"  {row['id'][:8]}  {row['kind']:<16} {row['case'] or '-':<10} {row['title']} "
                       f"(registered by {row['collector']} on {row['registered_at'][:10]})")
    for rows, key, label in ((data["by_inspector"], "person", "inspector"), (data["by_day"], "day", "day"),
                             (data["by_inspector_day"], "person+day", "inspector and day")):
        click.echo("")
        _table(rows, key, label)
    click.echo(f"\n{'kind':<24} {'sources':>8} {'coded':>6} {'uncoded':>8} {'codings':>8}")
    for row in data["by_kind"]:
        click.echo(f"{row['kind']:<24} {row['sources']:>8} {row['coded']:>6} {row['uncoded']:>8} {row['codings']:>8}")


@click.command()
@click.option("--code", "code_ref", required=True, metavar="CODE", help="The theme (code id, id ending or label).")
@click.option("--with-children/--without-children", default=True, show_default=True,
              help="Include codings under the theme's descendants.")
@click.option("--per-valence", type=click.IntRange(1, 50), default=3, show_default=True,
              help="How many strengths and how many weaknesses to show.")
@json_option
def vignettes(code_ref: str, with_children: bool, per_valence: int, as_json: bool) -> None:
    """Pick the clearest coded examples of strong and of weak practice under a theme, with provenance."""
    from projections.evidence import vignettes as pick

    ledger, inspection, engine = _open()
    code = _code(ledger, inspection, code_ref)
    with engine.connect() as conn:
        data = pick(conn, inspection.id, code, with_children=with_children, per_valence=per_valence,
                    hidden=blind_filter(engine, inspection))
    if as_json:
        out_json(data)
        return
    scope = "with its descendants" if with_children else "alone"
    click.echo(f"Vignettes for {data['code']} — {data['label']} ({scope})")
    for valence, title in (("strength", "Strengths"), ("weakness", "Weaknesses")):
        chosen = data[valence]
        click.echo(f"\n{title}: {len(chosen)} of {data[valence + '_considered']} coding(s)")
        for number, row in enumerate(chosen, 1):
            click.echo(f"  {number}. score {row['score']} ({', '.join(row['reasons']) or 'no qualities'})")
            _echo_coding(row, CONTEXT, prefix="     ")
    click.echo(f"\nScoring: {data['scoring']}.")
