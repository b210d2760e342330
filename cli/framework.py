"""``evidence framework list|show|check``: the inspection frameworks, and their rules run over sets of grades.

``check`` reads the grades of the current inspection's judgments from the ledger, or rows of published
outcomes from a CSV file (``--csv``); it prints each row's findings and a summary, and exits 1 when any
hard rule is broken.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session

if TYPE_CHECKING:
    from ledger.contracts import Framework


def framework_named(name: str) -> Framework:
    """The framework a plugin registered under ``name`` (a PluginError naming the known ones otherwise)."""
    from ledger.pluginmanager import registered

    return registered("register_frameworks")[name]


def framework_of_inspection() -> tuple[Any, Framework]:
    """The current inspection and its framework."""
    from ledger.inspection import load

    s = session()
    inspection = load(s.ledger, s.inspection)
    return inspection, framework_named(inspection.framework)


@click.group()
def framework() -> None:
    """List and show inspection frameworks, and check grades against their rules."""


@framework.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the frameworks the loaded plugins provide."""
    from ledger.pluginmanager import registered

    found = registered("register_frameworks")
    data = [
        {"name": f.name, "title": f.title, "areas": len(f.areas), "supplier": found.suppliers[f.name]} for f in found
    ]
    if as_json:
        out_json(data)
        return
    for item in data:
        click.echo(f"{item['name']:<14} {item['title']}  ({item['areas']} areas; from {item['supplier']})")


@framework.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show framework NAME: its judgment areas, grade scale and meanings, and its rules."""
    import msgspec

    chosen = framework_named(name)
    rules = [msgspec.to_builtins(r) for r in getattr(chosen, "rules", ())]
    data = {
        "name": chosen.name, "title": chosen.title, "grades": list(chosen.grades),
        "grade_meanings": dict(chosen.grade_meanings), "areas": [msgspec.to_builtins(a) for a in chosen.areas],
        "rules": rules,
    }
    if as_json:
        out_json(data)
        return
    click.echo(f"{chosen.name}: {chosen.title}")
    click.echo("\nAreas:")
    for area in chosen.areas:
        extra = f", under {area.parent}" if area.parent else ""
        judged = ", may be not judged" if area.allows_not_judged else ""
        click.echo(f"  {area.id:<16} {area.title} ({area.kind}{extra}{judged})")
    click.echo("\nGrades, best first:")
    for grade in chosen.grades:
        click.echo(f"  {grade:<21} {chosen.grade_meanings.get(grade, '')}")
    if rules:
        click.echo("\nRules:")
        for rule in rules:
            kind = "hard rule" if rule["severity"] == "error" else "observed norm"
            click.echo(f"  {rule['name']} ({kind}, over {', '.join(rule['areas'])}): {rule['basis']}.")


@framework.command("check")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Check the rows of this outcomes CSV instead of the current inspection's judgments.")
@click.option("--framework", "name", metavar="NAME",
              help="The framework to check against (default: the inspection's; sif-2013 for a CSV).")
@click.option("--quiet", is_flag=True, help="Print only rows with findings, and the summary.")
@json_option
def check(csv_file: Path | None, name: str | None, quiet: bool, as_json: bool) -> None:
    """Run a framework's hard rules and observed norms over grades; exit 1 if any hard rule is broken."""
    import msgspec

    from ledger.errors import BadInput

    if csv_file is not None:
        from plugins.frameworks import read_outcomes_csv

        chosen = framework_named(name or "sif-2013")
        try:
            text = csv_file.read_text(encoding="utf-8")
        except OSError as error:
            raise BadInput(f"Cannot read {csv_file} ({error.strerror}); check the path.") from None
        except UnicodeDecodeError:
            raise BadInput(f"{csv_file} is not UTF-8 text; save the CSV as UTF-8.") from None
        rows = read_outcomes_csv(text, chosen)
    else:
        from ledger.judgment import grades, load_all

        s = session()
        inspection, own = framework_of_inspection()
        chosen = framework_named(name) if name else own
        rows = [(inspection.reference, grades(load_all(s.ledger, inspection, chosen)))]
        if not rows[0][1]:
            raise BadInput(f"No grade has been proposed in {inspection.reference} yet; nothing to check.")
    results = []
    for label, graded in rows:
        found = chosen.check(graded)
        results.append({"label": label, "grades": graded, "findings": [msgspec.to_builtins(f) for f in found]})
    summary = {
        "framework": chosen.name, "rows": len(results),
        "rows_with_errors": sum(any(f["severity"] == "error" for f in r["findings"]) for r in results),
        "rows_with_warnings": sum(any(f["severity"] == "warning" for f in r["findings"]) for r in results),
        "errors": sum(f["severity"] == "error" for r in results for f in r["findings"]),
        "warnings": sum(f["severity"] == "warning" for r in results for f in r["findings"]),
    }
    if as_json:
        out_json({"summary": summary, "rows": results})
    else:
        for result in results:
            if quiet and not result["findings"]:
                continue
            shown = ", ".join(f"{area} {grade}" for area, grade in result["grades"].items())
            click.echo(f"{result['label']}: {'ok' if not result['findings'] else 'see below'} ({shown})")
            for finding in result["findings"]:
                click.echo(f"  {finding['severity']}: [{finding['rule']}] {finding['message']}")
        click.echo(
            f"{summary['rows']} row(s) checked against {chosen.name}: {summary['errors']} hard-rule violation(s) "
            f"in {summary['rows_with_errors']} row(s), {summary['warnings']} norm warning(s) in "
            f"{summary['rows_with_warnings']} row(s)."
        )
    if summary["errors"]:
        sys.exit(1)  # click's Exit would be returned, not raised, by cli.main in-process
