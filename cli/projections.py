"""``evidence projections status|rebuild``: the read models rebuilt from the log."""

from __future__ import annotations

import click

from cli.session import json_option, out_json, session


@click.group()
def projections() -> None:
    """Inspect or rebuild the read models."""


@projections.command()
@json_option
def status(as_json: bool) -> None:
    """Show how far each projection has read the log."""
    from ledger.application import storage_errors
    from projections import all_projections
    from projections.base import status as projection_status
    from projections.engine import engine_for

    ledger = session().ledger
    with storage_errors(ledger.database):
        rows = projection_status(ledger, engine_for(ledger.url), all_projections())
    if as_json:
        out_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<24} v{row['version']}  at {row['position']}  ({row['behind']} behind)")


@projections.command()
@json_option
def rebuild(as_json: bool) -> None:
    """Drop every projection and replay the whole log into it."""
    import time

    from ledger.application import storage_errors
    from projections import all_projections
    from projections.base import rebuild as rebuild_all
    from projections.engine import engine_for

    ledger = session().ledger
    started = time.perf_counter()
    with storage_errors(ledger.database):
        count = rebuild_all(ledger, engine_for(ledger.url), all_projections())
    seconds = time.perf_counter() - started
    if as_json:
        out_json({"events": count, "seconds": round(seconds, 3)})
    else:
        click.echo(f"Rebuilt {len(all_projections())} projections from {count} events in {seconds:.2f} s.")
