"""``evidence export|import``: exchange codebooks (.qdc) and projects (.qdpx) with other QDA programs (REFI-QDA).

Exports carry the current state only; imports define codes, register sources and apply codings in one append.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.session import json_option, out_json, session
from ledger.errors import BadInput

#: A plain codebook file larger than this is refused before parsing (archives have their own limits).
MAX_FILE_BYTES = 200 * 2**20

LOSS = ("REFI-QDA carries no history, withdrawals, valences or rationale, so this export loses the ledger's "
        "audit trail; keep the ledger as the record.")

file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
because_option = click.option("--because", required=True, metavar="TEXT",
                              help="Why the file is imported (kept in the ledger).")


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BadInput(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB; split it before importing.")
        return path.read_bytes()
    except OSError as error:
        raise BadInput(f"Cannot read {path} ({error.strerror}); check the path.") from None


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise BadInput(f"Cannot write {path} ({error.strerror}); check the folder exists and is writable.") from None


def _discarded(discarded: dict[str, int]) -> None:
    if discarded:
        listed = ", ".join(f"{count} {name}" for name, count in discarded.items())
        click.echo(f"Discarded (the ledger has no place for them): {listed}.")


@click.group()
def export() -> None:
    """Write the current inspection out for other programs (REFI-QDA)."""


@export.command("codebook")
@file_argument
@json_option
def export_codebook(file: Path, as_json: bool) -> None:
    """Write the inspection's code tree to FILE as a REFI-QDA codebook (.qdc)."""
    from ledger.inspection import load
    from plugins.refi import gather
    from plugins.refi.writer import codebook_xml
    from projections import ready

    s = session()
    inspection = load(s.ledger, s.inspection)
    assert inspection.id is not None
    with ready(s.ledger).connect() as conn:
        codes = gather.codes(conn, inspection.id.hex)
    if not codes:
        raise BadInput(f"Inspection {inspection.reference} has no codes yet; bring in a codebook first.")
    _write(file, codebook_xml(codes))
    categories = sum(not c.codable for c in codes)
    if as_json:
        out_json({"file": str(file), "codes": len(codes), "categories": categories})
        return
    click.echo(f"Wrote {len(codes)} codes ({categories} area-level categories) to {file}.")


@export.command("refi")
@file_argument
@json_option
def export_refi(file: Path, as_json: bool) -> None:
    """Write the inspection's sources, codes, codings and memos to FILE as a REFI-QDA project (.qdpx)."""
    from ledger.inspection import load
    from plugins.refi import gather
    from plugins.refi.writer import project_archive
    from projections import ready

    s = session()
    inspection = load(s.ledger, s.inspection)
    assert inspection.id is not None
    with ready(s.ledger).connect() as conn:
        project = gather.project(conn, inspection.id.hex, inspection.reference, inspection.names)
    _write(file, project_archive(project))
    counts = {"sources": len(project.sources), "codes": len(project.codes), "codings": len(project.codings),
              "memos": len(project.memos)}
    if as_json:
        out_json({"file": str(file), **counts, "warning": LOSS})
        return
    click.echo(f"Wrote {counts['sources']} sources, {counts['codes']} codes, {counts['codings']} codings and "
               f"{counts['memos']} memos to {file}.")
    click.echo(LOSS)


@click.group("import")
def import_() -> None:
    """Bring a codebook or project in from another program (REFI-QDA)."""


@import_.command("codebook")
@file_argument
@because_option
@json_option
def import_codebook(file: Path, because: str, as_json: bool) -> None:
    """Define the codes of a REFI-QDA codebook FILE (.qdc) as emergent codes of the inspection."""
    from ledger.inspection import load
    from plugins.refi.ingest import import_codebook as define_all
    from plugins.refi.reader import read_codebook

    s = session()
    codes, discarded = read_codebook(_read(file), file.name)

    def attempt() -> Any:
        inspection = load(s.ledger, s.inspection)
        return define_all(s.ledger, s.actor, inspection, codes, because)

    plan = s.attempt(attempt)
    if plan.categories:
        discarded = discarded | {"category mark (isCodable=false; they became ordinary codes)": plan.categories}
    if as_json:
        out_json({"defined": [c.id for c in plan.new], "reused": plan.reused, "discarded": discarded})
        return
    click.echo(f"Defined {len(plan.new)} codes; {len(plan.reused)} were in the codebook already.")
    for code in plan.new:
        click.echo(f"  {code.id}  {code.label}")
    _discarded(discarded)


@import_.command("refi")
@file_argument
@because_option
@click.option("--kind", default="other", show_default=True, metavar="KIND",
              help="The kind of source the project's texts are (e.g. interview, case-record).")
@json_option
def import_refi(file: Path, because: str, kind: str, as_json: bool) -> None:
    """Register the sources of a REFI-QDA project FILE (.qdpx), define its codes and apply its codings."""
    from ledger.inspection import load
    from plugins.refi.ingest import import_project
    from plugins.refi.reader import read_project

    s = session()
    project = read_project(_read(file), file.name)

    def attempt() -> Any:
        inspection = load(s.ledger, s.inspection)
        return import_project(s.ledger, s.actor, inspection, project, filename=file.name, kind=kind,
                              rationale=because)

    result = s.attempt(attempt)
    discarded = dict(project.discarded)
    if result.codes.categories:
        discarded["category mark (isCodable=false; they became ordinary codes)"] = result.codes.categories
    if as_json:
        out_json({"sources_added": result.sources_added, "sources_existing": result.sources_existing,
                  "codes_defined": [c.id for c in result.codes.new], "codes_reused": result.codes.reused,
                  "codings": result.codings, "discarded": discarded})
        return
    click.echo(f"Registered {len(result.sources_added)} sources ({len(result.sources_existing)} were registered "
               f"already), defined {len(result.codes.new)} codes and applied {result.codings} codings as "
               f"{s.actor}; each coding's note names who coded it in {project.origin or 'the other program'}.")
    _discarded(discarded)
