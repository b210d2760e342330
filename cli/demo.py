"""``evidence demo [DIR]``: write a generated, fictional four-week SIF inspection into a fresh ledger, then replay
how its overall grade was reached.

The ledger is made in DIR (default ``./evidence-demo``) exactly as ``evidence init`` would make it, so that
``cd DIR`` and any other command (``judge list``, ``replay AREA --format html``) work on it afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="evidence-demo")
@click.option("--seed", type=int, default=2017, show_default=True, help="The seed the inspection is generated from.")
def demo(directory: Path, seed: int) -> None:
    """Build a realistic, fictional inspection in DIR (default ./evidence-demo) and replay its overall grade."""
    from cli.demo_inspection import LEAD, REFERENCE, build
    from cli.replay import render_text
    from ledger import replay as replays
    from ledger.application import Ledger
    from ledger.config import FOLDER, Config, default_url, read_config, resolve_url, write_config
    from ledger.errors import AlreadyExists
    from ledger.inspection import load
    from ledger.pluginmanager import registered

    folder = directory / FOLDER
    if (folder / "config.toml").exists():
        config = read_config(folder)
    else:  # a new ledger: the embedded default, unless EVIDENCE_LEDGER_URL names another database
        config = Config(url=os.environ.get("EVIDENCE_LEDGER_URL", "").strip() or default_url())
    url = resolve_url(config.url, folder)
    if (folder / "config.toml").exists():
        ledger = Ledger(url)
        try:
            if ledger.last_position() > 0:
                raise AlreadyExists(
                    f"{folder} holds a ledger with events already; give the demo a new or empty folder."
                )
        finally:
            ledger.close()
    folder.mkdir(parents=True, exist_ok=True)
    framework = registered("register_frameworks")["sif-2013"]
    book = registered("register_codebooks")["sif-2013"]
    summary = build(url, framework, book, seed=seed)
    write_config(folder, Config(url=config.url, user=LEAD, inspection=REFERENCE))
    kinds = ", ".join(f"{n} {kind}" for kind, n in summary.sources.items())
    people = sum(role in ("lead-inspector", "inspector") for role in summary.team.values())
    click.echo(f"Wrote a fictional inspection, {summary.reference} ({summary.authority}), to {directory}:")
    click.echo(f"  {people} inspectors, {len(summary.team) - people} panel members and moderators; "
               f"{summary.cases} tracked cases")
    click.echo(f"  {sum(summary.sources.values())} sources ({kinds})")
    click.echo(f"  {summary.codings} codings, {summary.hypotheses} hypotheses, {summary.events} events; "
               f"chain head {summary.head[:16]}")
    click.echo("  grades: " + ", ".join(f"{area} {grade}" for area, grade in summary.grades.items()))
    click.echo(f"Try: cd {directory} && evidence judge list && evidence replay overall --format html -o overall.html")
    click.echo("")
    ledger = Ledger(url)
    try:
        inspection = load(ledger, REFERENCE)
        click.echo(render_text(replays.replay(ledger, inspection, "overall", framework=framework)), nl=False)
    finally:
        ledger.close()
