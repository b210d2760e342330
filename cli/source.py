"""``evidence source|note``: register what inspectors read, heard and saw; list, show and withdraw it.

``source add`` reads every file before anything is written, then registers them in one append (all or none).
``note`` is the quick path for a field note typed at the keyboard: it never loads SQLAlchemy, rich or plugins.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session, utc_time
from ledger.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from ledger.application import Ledger
    from ledger.inspection import Inspection
    from ledger.source import NewSource, Registered

#: Show a progress bar while reading more files than this (and only on a terminal).
PROGRESS_AFTER = 20
#: The longest title a note gets from its first line.
NOTE_TITLE = 60


def read_text(value: str) -> str:
    """The text given on the command line, or standard input when it is ``-``."""
    return sys.stdin.read() if value == "-" else value


@click.group()
def source() -> None:
    """Register, list, show and withdraw sources (case records, interview and observation notes, data)."""


@source.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kind", metavar="KIND", help="What the sources are (interview, case-record...), unless a file says.")
@click.option("--case", metavar="ID", help="The child's case the sources are about, unless a file says.")
@click.option("--annex-a", type=int, metavar="N", help="The Annex A list (1-11) the sources come from.")
@click.option("--collected-at", callback=utc_time, metavar="TIME", help="When the evidence was gathered (UTC unless stated).")
@click.option("--tier", metavar="TIER", help="Reliability tier: direct, practitioner or authority.")
@click.option("--format", "format_", metavar="NAME", help="Read the files with this importer instead of guessing.")
@click.option("--supersedes", metavar="SOURCE", help="The one file is a new version of this source; codings move to it.")
@click.option("--because", default="", metavar="TEXT", help="Why the source is replaced (with --supersedes).")
@json_option
def add(
    files: tuple[Path, ...], kind: str | None, case: str | None, annex_a: int | None, collected_at: datetime | None,
    tier: str | None, format_: str | None, supersedes: str | None, because: str, as_json: bool,
) -> None:
    """Register FILES as sources of the current inspection, all or none; content added before is skipped."""
    from ledger import source as sources
    from ledger.inspection import load

    if kind:
        sources.parse_kind(kind)
    sources.parse_tier(tier)
    sources.check_annex_a(annex_a)
    if supersedes and len(files) != 1:
        raise BadInput("--supersedes replaces one source with one file; give exactly one file.")
    if supersedes and not because.strip():
        raise BadInput("Say why the source is replaced with --because TEXT.")
    s = session()
    inspection = load(s.ledger, s.inspection)
    items = []
    for path, found in _read_all(files, format_):
        for item in found:
            try:
                items.append(sources.from_import(item, kind=kind, case=case, annex_a=annex_a,
                                                 collected_at=collected_at, tier=tier, filename=path.name))
            except BadInput as error:
                message = str(error)
                raise BadInput(message if message.startswith(path.name) else f"{path.name}: {message}") from None
    if supersedes:
        _supersede(supersedes, items, because, as_json)
        return
    added, _ = s.attempt(lambda: sources.register(s.ledger, s.actor, inspection, items))
    _report(inspection, items, set(added), as_json)


def _read_all(files: tuple[Path, ...], format_: str | None) -> Iterator[tuple[Path, list[Any]]]:
    """Each file with what its importer read from it; a progress bar on a terminal for many files."""
    from plugins.importers import read_file

    if len(files) <= PROGRESS_AFTER or not sys.stderr.isatty():
        for path in files:
            yield path, read_file(path, format=format_)
        return
    from rich.console import Console
    from rich.progress import track

    for path in track(files, description="Reading files", console=Console(stderr=True), transient=True):
        yield path, read_file(path, format=format_)


def _report(inspection: Inspection, items: list[NewSource], added: set[UUID], as_json: bool) -> None:
    from ledger.source import source_id

    assert inspection.id is not None
    rows, printed = [], set()
    for item in items:
        sid = source_id(inspection.id, item.text)
        new = sid in added and sid not in printed
        printed.add(sid)
        rows.append({"id": sid.hex, "title": item.title, "file": item.filename, "added": new})
    if as_json:
        out_json(rows)
        return
    for row in rows:
        if row["added"]:
            click.echo(f"{row['id'][:8]}  {row['title']}")
        else:
            click.echo(f"{row['file'] or row['title']}: already registered as {row['id'][:8]} — nothing added")
    if len(rows) > 1:
        fresh = sum(row["added"] for row in rows)
        click.echo(f"{fresh} source(s) registered, {len(rows) - fresh} already there.")


def _supersede(prefix: str, items: list[NewSource], because: str, as_json: bool) -> None:
    """Register the one new version of a source and move its codings onto it."""
    from ledger import source as sources
    from ledger.coding import Coding
    from ledger.inspection import load
    from ledger.remap import supersede

    if len(items) != 1:
        raise BadInput(f"The file holds {len(items)} sources; --supersedes needs a file holding exactly one.")
    s = session()

    def attempt() -> tuple[UUID, UUID, int, int]:
        inspection = load(s.ledger, s.inspection)
        old = sources.load(s.ledger, prefix, inspection)
        assert old.id is not None
        codings = [s.ledger.get(Coding, cid, what="coding") for cid in _coding_ids(s.ledger, inspection, old.id)]
        new_id, placed, unplaced = supersede(s.ledger, s.actor, inspection, old, items[0], codings, because)
        return old.id, new_id, placed, unplaced

    old_id, new_id, placed, unplaced = s.attempt(attempt)
    data = {"id": new_id.hex, "title": items[0].title, "supersedes": old_id.hex, "placed": placed,
            "unplaced": unplaced}
    if as_json:
        out_json(data)
        return
    click.echo(f"{new_id.hex[:8]}  {items[0].title} (supersedes {old_id.hex[:8]})")
    click.echo(f"{placed} coding(s) moved to the new version, {unplaced} could not be placed and are flagged.")


def _coding_ids(ledger: Ledger, inspection: Inspection, source_id: UUID) -> list[UUID]:
    """The ids of every coding on a source (withdrawn ones included; ``supersede`` skips them)."""
    from uuid import UUID

    from projections import ready
    from projections.evidence import codings

    assert inspection.id is not None
    engine = ready(ledger)
    with engine.connect() as conn:
        rows = codings(conn, inspection.id, source=source_id.hex, include_withdrawn=True)
    return [UUID(row["id"]) for row in rows]


@click.command()
@click.argument("text")
@click.option("--kind", default="notebook", show_default=True, metavar="KIND", help="What kind of source the note is.")
@click.option("--case", metavar="ID", help="The child's case the note is about.")
@click.option("--title", metavar="T", help="A title (default: the note's first line).")
def note(text: str, kind: str, case: str | None, title: str | None) -> None:
    """Register a quick field note TEXT (or '-' to read it from standard input) as a source."""
    from ledger.inspection import load
    from ledger.source import NewSource, parse_kind, register, source_id

    body = read_text(text)
    if not body.strip():
        raise BadInput("The note is empty; write its text as the argument, or '-' to read standard input.")
    item = NewSource(title=(title or "").strip() or _first_line(body), text=body, kind=parse_kind(kind), case=case)
    s = session()
    inspection = load(s.ledger, s.inspection)
    added, _ = s.attempt(lambda: register(s.ledger, s.actor, inspection, [item]))
    assert inspection.id is not None
    sid = source_id(inspection.id, body)
    if added:
        click.echo(f"{sid.hex[:8]}  {item.title}")
    else:
        click.echo(f"already registered as {sid.hex[:8]} — nothing added")


def _first_line(text: str) -> str:
    line = next(line.strip() for line in text.splitlines() if line.strip())
    return line if len(line) <= NOTE_TITLE else line[: NOTE_TITLE - 1].rstrip() + "…"


@source.command("list")
@click.option("--kind", metavar="KIND", help="Only sources of this kind.")
@click.option("--case", metavar="ID", help="Only sources about this case.")
@json_option
def list_(kind: str | None, case: str | None, as_json: bool) -> None:
    """List the current inspection's sources, oldest first."""
    from ledger.inspection import load
    from ledger.source import parse_kind
    from projections import ready
    from projections.evidence import sources

    s = session()
    inspection = load(s.ledger, s.inspection)
    engine = ready(s.ledger)
    with engine.connect() as conn:
        rows = sources(conn, inspection.id, kind=str(parse_kind(kind)) if kind else None, case=case)
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo("No sources yet; register some with 'evidence source add FILE... --kind KIND'.")
    for row in rows:
        status = "" if row.get("status") in (None, "current") else f"  [{row['status']}]"
        click.echo(f"{row['id'][:8]}  {row['kind']:<16} {row.get('case') or '-':<10} {row['title']}{status}")


def _registered(ledger: Ledger, source_id: UUID) -> Registered:
    """The event that registered a source: it holds the provenance the aggregate does not keep."""
    from ledger.application import storage_errors

    with storage_errors(ledger.database):
        return next(iter(ledger.repository.event_store.get(source_id, lte=1)))  # type: ignore[return-value]


@source.command("show")
@click.argument("source_id", metavar="ID")
@json_option
def show(source_id: str, as_json: bool) -> None:
    """Show source ID: its provenance, then its text with line numbers and the offset each line starts at."""
    from ledger.events import describe
    from ledger.inspection import load
    from ledger.source import load as load_source

    s = session()
    inspection = load(s.ledger, s.inspection)
    state = load_source(s.ledger, source_id, inspection)
    assert state.id is not None
    data = describe(_registered(s.ledger, state.id))
    for key in ("originator_id", "originator_version", "type", "role", "inspection"):
        data.pop(key, None)
    data = {"id": state.id.hex, **data, "collector": data.pop("actor"), "registered_at": data.pop("timestamp"),
            "length": len(state.text), "withdrawn": state.withdrawn,
            "superseded_by": state.superseded_by.hex if state.superseded_by else None}
    if as_json:
        out_json(data)
        return
    _print_source(data)


def _print_source(data: dict[str, Any]) -> None:
    click.echo(f"{data['id'][:8]}  {data['title']}")
    shown = ("kind", "case", "annex_a", "tier", "collected_at", "collector", "registered_at", "format", "filename",
             "content_hash", "supersedes", "superseded_by")
    for key in shown:
        if data.get(key) not in (None, ""):
            click.echo(f"  {key.replace('_', ' ')}: {data[key]}")
    for key, value in sorted(data["metadata"].items()):
        click.echo(f"  {key}: {value}")
    if data["withdrawn"]:
        click.echo("  status: withdrawn")
    pages = list(data["pages"])
    if pages:
        click.echo(f"  pages start at: {', '.join(map(str, pages))}")
    click.echo(f"  {data['length']} characters; spans are START:END offsets, as in the left column.")
    click.echo("")
    offset, page = 0, 0
    for number, line in enumerate(data["text"].splitlines(keepends=True), 1):
        while page < len(pages) and pages[page] < offset + len(line):
            click.echo(f"{'':>5} {'':>7}  --- page {page + 1} ---")
            page += 1
        click.echo(f"{number:>5} {offset:>7}  {line.rstrip(chr(13) + chr(10))}")
        offset += len(line)


@source.command("withdraw")
@click.argument("source_id", metavar="ID")
@click.option("--because", required=True, metavar="TEXT", help="Why the source is withdrawn (kept in the ledger).")
def withdraw(source_id: str, because: str) -> None:
    """Withdraw source ID from the evidence base; it stays in the history."""
    from ledger.inspection import load
    from ledger.source import load as load_source
    from ledger.source import withdraw as withdraw_source

    s = session()

    def attempt() -> UUID:
        inspection = load(s.ledger, s.inspection)
        state = load_source(s.ledger, source_id, inspection)
        withdraw_source(s.ledger, s.actor, inspection, state, because)
        assert state.id is not None
        return state.id

    sid = s.attempt(attempt)
    click.echo(f"Withdrew source {sid.hex[:8]}.")
