"""``evidence codebook|code``: bring in codebooks, grow the code tree, and code passages of sources.

``code apply`` and ``code batch`` are append paths: they load only the aggregates they need and never import
SQLAlchemy, rich or the plugins.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session
from ledger.errors import BadInput

if TYPE_CHECKING:
    from uuid import UUID

    from ledger.codebook import CodebookState
    from ledger.inspection import Inspection

VALENCES = ("strength", "weakness", "neutral")
FACETS = ("process", "practice", "impact")

because_option = click.option(
    "--because", required=True, metavar="TEXT", help="Why the change is made (kept in the ledger)."
)


# --- codebooks -----------------------------------------------------------------------------------


@click.group()
def codebook() -> None:
    """List the codebooks plugins provide, and bring one into the current inspection."""


def _codebooks() -> Any:
    from ledger.pluginmanager import registered

    return registered("register_codebooks")


def _codebook_spec(name: str) -> Any:
    from ledger.errors import NotFound

    books = _codebooks()
    if name not in books:
        known = ", ".join(sorted(book.name for book in books)) or "none"
        raise NotFound(f"No codebook is named {name!r}; known codebooks: {known} (see 'evidence codebook list').")
    return books[name]


@codebook.command("list")
@json_option
def codebook_list(as_json: bool) -> None:
    """List the codebooks the loaded plugins provide."""
    data = [
        {"name": book.name, "title": book.title, "framework": book.framework, "codes": len(book.codes)}
        for book in sorted(_codebooks(), key=lambda b: b.name)
    ]
    if as_json:
        out_json(data)
        return
    for row in data:
        click.echo(f"{row['name']:<16} {row['framework']:<12} {row['codes']:>4} codes  {row['title']}")


@codebook.command("show")
@click.argument("name")
@json_option
def codebook_show(name: str, as_json: bool) -> None:
    """Show the codes of codebook NAME as a tree."""
    import msgspec

    book = _codebook_spec(name)
    if as_json:
        out_json(msgspec.to_builtins(book))
        return
    click.echo(f"{book.name} — {book.title} ({book.framework}), {len(book.codes)} codes")
    for code in book.codes:
        depth = code.id.count("/")
        facet = f" [{code.facet}]" if code.facet else ""
        click.echo(f"{'  ' * (depth + 1)}{code.id}  {code.label}{facet}")


@codebook.command("use")
@click.argument("name")
def codebook_use(name: str) -> None:
    """Bring codebook NAME's codes into the current inspection (lead inspectors only)."""
    from ledger.codebook import adopt
    from ledger.inspection import load

    spec = _codebook_spec(name)
    s = session()
    count = s.attempt(lambda: adopt(s.ledger, s.actor, load(s.ledger, s.inspection), spec))
    click.echo(f"Brought {count} code(s) from {name} into {s.inspection}.")


# --- the code tree -------------------------------------------------------------------------------


@click.group()
def code() -> None:
    """Define and change codes, apply them to passages of sources, and withdraw codings."""


def _change(command: Any, *args: Any) -> None:
    """Run a codebook command against the freshly loaded inspection, retrying on a concurrent change."""
    from ledger.inspection import load

    s = session()
    s.attempt(lambda: command(s.ledger, s.actor, load(s.ledger, s.inspection), *args))


@code.command("define")
@click.argument("label")
@click.option("--parent", metavar="CODE", help="The code to define it under (default: at the top).")
@click.option("--facet", type=click.Choice(FACETS), help="Whether it is about process, practice or impact.")
@click.option("--description", default="", metavar="T", help="What the code means and when to apply it.")
@click.option("--id", "code_id", metavar="ID", help="The code's id (default: the parent's id / the label's slug).")
@because_option
def define(label: str, parent: str | None, facet: str | None, description: str, code_id: str | None,
           because: str) -> None:
    """Define an emergent code LABEL in the current inspection's codebook."""
    from ledger.codebook import define as define_code
    from ledger.inspection import load

    s = session()
    new_id = s.attempt(lambda: define_code(
        s.ledger, s.actor, load(s.ledger, s.inspection), label, parent=parent, facet=facet,
        description=description, rationale=because, code_id=code_id,
    ))
    click.echo(f"Defined code {new_id} ({label.strip()}).")


@code.command("rename")
@click.argument("code_ref", metavar="CODE")
@click.argument("label")
@because_option
def rename(code_ref: str, label: str, because: str) -> None:
    """Give CODE a new LABEL (its id stays, so its codings are unaffected)."""
    from ledger.codebook import rename as rename_code

    _change(rename_code, code_ref, label, because)
    click.echo(f"Renamed {code_ref} to {label.strip()!r}.")


@code.command("move")
@click.argument("code_ref", metavar="CODE")
@click.option("--parent", metavar="CODE", help="The code to move it under.")
@click.option("--top", is_flag=True, help="Move it to the top of the tree.")
@because_option
def move(code_ref: str, parent: str | None, top: bool, because: str) -> None:
    """Move CODE under another code (--parent) or to the top (--top)."""
    from ledger.codebook import move as move_code

    if bool(parent) == top:
        raise click.UsageError("Say where to move the code: --parent CODE or --top (one of them).")
    _change(move_code, code_ref, parent, because)
    click.echo(f"Moved {code_ref} {'to the top' if top else f'under {parent}'}.")


@code.command("merge")
@click.argument("codes", nargs=-1, required=True, metavar="CODE...")
@click.option("--into", required=True, metavar="CODE", help="The code they are merged into.")
@because_option
def merge(codes: tuple[str, ...], into: str, because: str) -> None:
    """Merge CODE... into another code; their codings then count under it."""
    from ledger.codebook import merge as merge_codes

    _change(merge_codes, list(codes), into, because)
    click.echo(f"Merged {', '.join(codes)} into {into}.")


@code.command("retire")
@click.argument("code_ref", metavar="CODE")
@because_option
def retire(code_ref: str, because: str) -> None:
    """Retire CODE: it can no longer be applied, and its codings stay."""
    from ledger.codebook import retire as retire_code

    _change(retire_code, code_ref, because)
    click.echo(f"Retired {code_ref}.")


def _tree_rows(book: CodebookState, counts: dict[str, tuple[int, int]] | None) -> list[dict[str, Any]]:
    """The codes depth first (children in id order), each with its depth, facet and status."""
    rows: list[dict[str, Any]] = []

    def visit(code_id: str, depth: int) -> None:
        c = book.codes[code_id]
        status = (
            f"merged into {book.current(code_id)}" if code_id in book.merged_into
            else "retired" if code_id in book.retired else "active"
        )
        row = {"id": c.id, "label": c.label, "parent": c.parent, "depth": depth, "facet": c.facet,
               "origin": c.origin, "status": status, "description": c.description}
        if counts is not None:
            row["codings"], row["total"] = counts.get(c.id, (0, 0))
        rows.append(row)
        for child in sorted(book.children(code_id)):
            visit(child, depth + 1)

    for top in sorted(c.id for c in book.codes.values() if c.parent is None or c.parent not in book.codes):
        visit(top, 0)
    return rows


def _counts(inspection: Inspection) -> dict[str, tuple[int, int]]:
    """Code id -> (its own current codings, with its descendants'), from the read side.

    Codings an open blind double-coding round hides from the person asking are not counted.
    """
    from cli.retrieval import blind_filter
    from projections import ready
    from projections.evidence import code_tree

    engine = ready(session().ledger)
    hidden = blind_filter(engine, inspection)
    with engine.connect() as conn:
        return {row["id"]: (row["codings"], row["total"]) for row in code_tree(conn, inspection.id, hidden=hidden)}


@code.command("tree")
@click.option("--with-counts", is_flag=True, help="Also show how many current codings each code has.")
@json_option
def tree(with_counts: bool, as_json: bool) -> None:
    """Show the current inspection's code tree, with each code's facet and status."""
    from ledger.codebook import load as load_codebook
    from ledger.inspection import load

    s = session()
    inspection = load(s.ledger, s.inspection)
    rows = _tree_rows(load_codebook(s.ledger, inspection), _counts(inspection) if with_counts else None)
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo("No codes yet; bring in a codebook with 'evidence codebook use NAME' or 'evidence code define'.")
    for row in rows:
        facet = f" [{row['facet']}]" if row["facet"] else ""
        status = "" if row["status"] == "active" else f" ({row['status']})"
        count = f"  {row['codings']} coding(s), {row['total']} with sub-codes" if with_counts else ""
        click.echo(f"{'  ' * row['depth']}{row['id']}  {row['label']}{facet}{status}{count}")


# --- coding passages -----------------------------------------------------------------------------


def _span(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    start, colon, end = value.partition(":")
    if not colon or not start.strip().isdigit() or not end.strip().isdigit():
        raise click.BadParameter(f"{value!r} is not a span; write START:END in characters, e.g. 120:184.")
    return int(start), int(end)


@code.command("apply")
@click.argument("source_ref", metavar="SOURCE")
@click.argument("code_ref", metavar="CODE")
@click.option("--span", callback=_span, metavar="START:END", help="The passage by offsets (see 'source show').")
@click.option("--quote", metavar="TEXT", help="The passage by its exact words.")
@click.option("--occurrence", type=click.IntRange(min=1), metavar="N", help="Which occurrence of the quote (1 = first).")
@click.option("--valence", required=True, type=click.Choice(VALENCES), help="Whether the passage shows a strength, a weakness, or neither.")
@click.option("--band", metavar="GRADE", help="The grade band the passage illustrates (e.g. good).")
@click.option("--note", default="", metavar="TEXT", help="A short note on why it was coded so.")
@json_option
def apply(source_ref: str, code_ref: str, span: tuple[int, int] | None, quote: str | None, occurrence: int | None,
          valence: str, band: str | None, note: str, as_json: bool) -> None:
    """Code a passage of SOURCE with CODE, by --span START:END or by --quote TEXT."""
    from ledger.codebook import load as load_codebook
    from ledger.coding import CodingRequest, prepare
    from ledger.inspection import load
    from ledger.source import load as load_source

    if span and quote is not None:
        raise BadInput("Give either --span or --quote, not both.")
    if occurrence is not None and quote is None:
        raise BadInput("--occurrence picks among the matches of --quote; give --quote TEXT too.")
    request = CodingRequest(code=code_ref, valence=valence, start=span[0] if span else None,
                            end=span[1] if span else None, quote=quote, occurrence=occurrence, band=band, note=note)
    s = session()

    def attempt() -> tuple[Any, str]:
        inspection = load(s.ledger, s.inspection)
        state = load_source(s.ledger, source_ref, inspection)
        event = prepare(s.ledger, s.actor, inspection, state, load_codebook(s.ledger, inspection), request)
        s.ledger.append(event)
        return event, state.text[event.start:event.end]

    event, text = s.attempt(attempt)
    if as_json:
        out_json({"id": event.originator_id.hex, "source": event.source.hex, "code": event.code,
                  "start": event.start, "end": event.end, "quote": text, "valence": str(event.valence),
                  "band": event.band})
        return
    click.echo(f"{event.originator_id.hex[:8]}  {event.code}  {event.valence}  {event.start}:{event.end}")
    click.echo(f"“{text}”")


@code.command("withdraw")
@click.argument("coding_ref", metavar="CODING")
@because_option
def withdraw(coding_ref: str, because: str) -> None:
    """Withdraw CODING (yours, or any as lead inspector); it stays in the history."""
    from ledger.coding import load as load_coding
    from ledger.coding import withdraw as withdraw_coding
    from ledger.inspection import load

    s = session()

    def attempt() -> UUID:
        inspection = load(s.ledger, s.inspection)
        coding = load_coding(s.ledger, coding_ref, inspection)
        withdraw_coding(s.ledger, s.actor, inspection, coding, because)
        assert coding.id is not None
        return coding.id

    cid = s.attempt(attempt)
    click.echo(f"Withdrew coding {cid.hex[:8]}.")


FIELDS = ("source", "code", "start", "end", "quote", "occurrence", "valence", "band", "note")
FIELD_SET = frozenset(FIELDS)
REQUIRED = ("source", "code", "valence")


def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for every row of a CSV file with a header, or of a JSONL file."""
    import csv

    import msgspec

    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise BadInput(f"{path} cannot be read as UTF-8 text ({reason}); give a CSV or JSONL file.") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson") or text.lstrip().startswith("{"):
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    row = msgspec.json.decode(line)
                except msgspec.DecodeError as error:
                    raise BadInput(f"{path.name} line {number}: not a JSON object ({error}). Nothing was coded.") from None
                if not isinstance(row, dict):
                    raise BadInput(
                        f"{path.name} line {number}: not a JSON object; write one object per line. Nothing was coded."
                    )
                rows.append((number, row))
    else:
        reader = csv.reader(text.splitlines(keepends=True))
        header = [name.strip() for name in next(reader, [])]
        unknown = [name for name in header if name not in FIELDS]
        if not header or unknown:
            raise BadInput(
                f"{path.name} line 1: the header must name the columns ({', '.join(FIELDS)})"
                + (f"; {', '.join(map(repr, unknown))} is not one of them." if unknown else ".")
            )
        width = len(header)
        for cells in reader:
            if len(cells) > width:
                raise BadInput(
                    f"{path.name} line {reader.line_num}: the row has more cells than the header. Nothing was coded."
                )
            if any(cells):
                rows.append((reader.line_num, {k: v for k, v in zip(header, cells, strict=False) if v}))
    if not rows:
        raise BadInput(f"{path.name} holds no codings; write a header and one row per coding.")
    return rows


def _request(row: dict[str, Any]) -> tuple[str, Any]:
    """The source reference and the coding request one row asks for."""
    from ledger.coding import CodingRequest

    unknown = sorted(row.keys() - FIELD_SET)
    if unknown:
        raise BadInput(f"{', '.join(unknown)} is not a field; use {', '.join(FIELDS)}.")
    missing = [name for name in REQUIRED if not str(row.get(name) or "").strip()]
    if missing:
        raise BadInput(f"the row has no {' or '.join(missing)}; every row needs source, code and valence.")
    numbers: dict[str, int | None] = {}
    for name in ("start", "end", "occurrence"):
        value = row.get(name)
        if value in (None, ""):
            numbers[name] = None
        elif (isinstance(value, int) and not isinstance(value, bool)) or str(value).strip().isdigit():
            numbers[name] = int(value)
        else:
            raise BadInput(f"{name} {value!r} is not a whole number.")
    if (numbers["start"] is None) != (numbers["end"] is None):
        raise BadInput("give both start and end, or a quote.")
    quote = row.get("quote")
    if quote is not None and numbers["start"] is not None:
        raise BadInput("give either start and end or a quote, not both.")
    if numbers["occurrence"] is not None and quote is None:
        raise BadInput("occurrence picks among the matches of a quote; give the quote too.")
    return str(row["source"]).strip(), CodingRequest(
        code=str(row["code"]), valence=str(row["valence"]).strip(), start=numbers["start"], end=numbers["end"],
        quote=None if quote is None else str(quote), occurrence=numbers["occurrence"],
        band=str(row["band"]).strip() if row.get("band") else None, note=str(row.get("note") or ""),
    )


def _prepare_all(inspection: Inspection, rows: list[tuple[int, dict[str, Any]]], name: str) -> list[Any]:
    """Every row's event, checked against its source's text and the codebook; the first bad row stops it."""
    from ledger.codebook import load as load_codebook
    from ledger.coding import prepare
    from ledger.errors import PermissionDenied
    from ledger.source import load as load_source

    s = session()
    book = load_codebook(s.ledger, inspection)
    inspection.require(s.actor, "code.apply")
    states: dict[str, Any] = {}
    events = []
    for number, row in rows:
        try:
            ref, request = _request(row)
            if ref not in states:
                states[ref] = load_source(s.ledger, ref, inspection)
            events.append(prepare(s.ledger, s.actor, inspection, states[ref], book, request))
        except PermissionDenied:
            raise
        except BadInput as error:
            raise BadInput(f"{name} line {number}: {error} Nothing was coded.") from None
    return events


@code.command("batch")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def batch(file: Path) -> None:
    """Apply many codings from FILE (CSV with a header, or JSONL), all or none: every row is checked first.

    Fields: source, code, start and end (or quote, and occurrence), valence, band, note.
    """
    from ledger.inspection import load

    rows = _read_rows(file)
    s = session()

    def attempt() -> int:
        events = _prepare_all(load(s.ledger, s.inspection), rows, file.name)
        s.ledger.append(*events)
        return len(events)

    count = s.attempt(attempt)
    click.echo(f"Coded {count} passage(s) from {file.name}.")
