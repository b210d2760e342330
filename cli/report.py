"""``evidence report draft|moderation|feedback``: reports written by any registered report writer.

The report is built from the projections (``projections.report_data``) and handed to the writer named by
``--format`` (or guessed from ``--out``'s extension; the terminal view otherwise). Nothing is appended.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.session import session
from ledger.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Callable

_format = click.option("--format", "format_", metavar="F",
                       help="terminal, markdown, html, json, csv, docx, or a plugin's writer (default: from --out, "
                            "else terminal).")
_out = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                    help="Write the report to FILE instead of standard output.")


def build(kind: str) -> Any:
    """The current inspection's report of ``kind`` ("draft", "moderation" or "feedback") as plain data."""
    from cli.framework import framework_of_inspection
    from projections import ready
    from projections.report_data import BUILDERS

    from projections.rounds import hidden_for

    s = session()
    inspection, framework = framework_of_inspection()
    engine = ready(s.ledger)
    with engine.connect() as conn:
        if kind != "draft":  # only the draft quotes codings; the others report grades and feedback
            return BUILDERS[kind](conn, inspection.id, framework, as_at=s.ledger.last_position())
        hidden = hidden_for(conn, inspection.id, s.viewer)
        return BUILDERS[kind](conn, inspection.id, framework, as_at=s.ledger.last_position(), hidden=hidden)


def draft_markdown() -> str:
    """The current inspection's draft report as the Markdown writer writes it (what ``lint --report`` reads)."""
    from ledger.pluginmanager import registered

    return registered("register_report_writers")["markdown"].write(build("draft")).decode("utf-8")


def choose_writer(format_: str | None, out: Path | None) -> Any:
    """The writer named by ``--format``, else the one whose extension ``--out`` has, else the terminal view."""
    from ledger.pluginmanager import registered
    from plugins.reports import TerminalWriter, writer_for_path

    writers = registered("register_report_writers")
    known = ", ".join(w.name for w in writers)
    name = format_ or (writer_for_path(out, writers) if out else "terminal")
    if name is None:
        raise click.BadParameter(f"cannot tell the format from {out.name!r}; give --format (one of: {known})",
                                 param_hint="--out")
    if name not in writers:
        raise click.BadParameter(f"no report writer is named {name!r}; use one of: {known}", param_hint="--format")
    writer = writers[name]
    if isinstance(writer, TerminalWriter) and out is None and sys.stdout.isatty():
        import shutil

        return TerminalWriter(width=min(shutil.get_terminal_size().columns, 120), color=True)
    return writer


def write_out(data: bytes, out: Path) -> None:
    """Write ``data`` to ``out`` whole or not at all (a temporary file renamed into place)."""
    temporary = None
    target = out.resolve()  # write through a symbolic link, into the file it names
    try:
        if target.exists() and not target.is_file():
            raise BadInput(f"{out} is not a regular file; choose a file to write the report to with --out.")
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
        os.replace(temporary, target)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise BadInput(
            f"Cannot write {out} ({error.strerror or error}); check that its folder exists and is writable."
        ) from None


def emit(make: Callable[[], Any], format_: str | None, out: Path | None, what: str) -> None:
    """Build a report, write it with the chosen writer, and send it to ``out`` or standard output."""
    writer = choose_writer(format_, out)
    data = writer.write(make())
    if out is not None:
        write_out(data, out)
        click.echo(f"Wrote the {what} ({writer.name}) to {out}.")
        return
    try:
        click.echo(data.decode("utf-8"), nl=False)
    except UnicodeDecodeError:
        if sys.stdout.isatty():
            raise BadInput(f"The {writer.name} format is binary; write it to a file with --out FILE.") from None
        click.get_binary_stream("stdout").write(data)


@click.group()
def report() -> None:
    """Write the draft report, the moderation record and the feedback comparison, in any format."""


@report.command("draft")
@_format
@_out
def draft(format_: str | None, out: Path | None) -> None:
    """Write the draft report: per area the grade, proximity narrative, strengths and weaknesses with quotes."""
    emit(lambda: build("draft"), format_, out, "draft report")


@report.command("moderation")
@_format
@_out
def moderation(format_: str | None, out: Path | None) -> None:
    """Write the moderation record: every panel and moderation change, from and to, rationale and dissent."""
    emit(lambda: build("moderation"), format_, out, "moderation record")


@report.command("feedback")
@_format
@_out
def feedback(format_: str | None, out: Path | None) -> None:
    """Compare the verbal feedback given at each stage with the final judgments and the report's text."""
    emit(lambda: build("feedback"), format_, out, "feedback comparison")
