"""``evidence bias``: run every registered bias check over the evidence; ``evidence bias tiers`` sets reliability.

With ``--record`` the findings are kept in the ledger (``BiasReview.Recorded``), so a replay shows them as they
were then. docs/bias.md explains each check, its thresholds and the view the checks read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session

if TYPE_CHECKING:
    from ledger.contracts import BiasFinding

#: How many ledger positions a text finding lists before "...".
SHOWN_POSITIONS = 12


def review(area: str | None) -> tuple[dict[str, Any], list[BiasFinding]]:
    """Build the view and run every registered check: the review as plain data, and the findings themselves."""
    import msgspec

    from ledger.errors import BadInput
    from ledger.inspection import load
    from ledger.pluginmanager import registered
    from plugins.bias import run_checks
    from projections import ready
    from projections.bias_view import build

    s = session()
    inspection = load(s.ledger, s.inspection)
    frameworks = registered("register_frameworks")
    if area is not None and inspection.framework in frameworks:
        known = [a.id for a in frameworks[inspection.framework].areas]
        if area not in known:
            raise BadInput(f"{area!r} is not a judgment area of {inspection.framework}; use one of: {', '.join(known)}.")
    engine = ready(s.ledger)
    with engine.connect() as conn:
        view = build(conn, inspection.id, area)
    checks = registered("register_bias_checks")
    findings = run_checks(view, checks)
    data = {
        "inspection": view.inspection, "area": area, "through": view.through, "as_of": view.as_of,
        "checks": [{"name": c.name, "bias": c.bias, "description": c.description, "supplier": checks.suppliers[c.name],
                    "findings": sum(f.check == c.name for f in findings)} for c in checks],
        "findings": [msgspec.to_builtins(f) for f in findings],
    }
    return data, findings


@click.group(invoke_without_command=True)
@click.option("--area", metavar="AREA", help="Review one judgment area (inspection-wide findings still show).")
@click.option("--record", is_flag=True, help="Keep the findings in the ledger, for replays of the judgments.")
@json_option
@click.pass_context
def bias(ctx: click.Context, area: str | None, record: bool, as_json: bool) -> None:
    """Check the current inspection's evidence for analyst bias; each finding cites the events behind it."""
    if ctx.invoked_subcommand is not None:
        return
    from ledger import bias_review
    from ledger.inspection import load

    s = session()
    data, findings = review(area)
    if record:
        s.attempt(lambda: bias_review.record(
            s.ledger, s.actor, load(s.ledger, s.inspection), findings, through=data["through"], area=area,
            checks=[c["name"] for c in data["checks"]],
        ))
        data["recorded"] = True
    if as_json:
        out_json(data)
        return
    _print(data)
    if record:
        click.echo(f"Recorded this review in the ledger (as at position {data['through']}).")


def _print(data: dict[str, Any]) -> None:
    scope = f" ({data['area']})" if data["area"] else ""
    found = data["findings"]
    click.echo(f"Bias review of {data['inspection']}{scope} as at position {data['through']}: "
               f"{len(found)} finding(s) from {len(data['checks'])} check(s).")
    for f in found:
        shown = ", ".join(str(p) for p in f["positions"][:SHOWN_POSITIONS])
        more = f", ... ({len(f['positions'])} in all)" if len(f["positions"]) > SHOWN_POSITIONS else ""
        click.echo(f"\n[{f['severity']}] {f['check']}: {f['title']}")
        click.echo(f"  {f['explanation']}")
        click.echo(f"  What to do: {f['advice']}")
        if shown:
            click.echo(f"  Events: {shown}{more} (see 'evidence log')")
    if not found:
        click.echo("No possible bias found by any check.")


@bias.command("tiers")
@click.argument("assignments", nargs=-1, metavar="[KIND=TIER]...")
@json_option
def tiers(assignments: tuple[str, ...], as_json: bool) -> None:
    """Show each kind of source's reliability tier, or set some (KIND=TIER ...; lead inspectors only)."""
    from ledger import bias_review
    from ledger.inspection import load
    from ledger.source import TIERS

    s = session()
    if assignments:
        wanted = bias_review.parse_assignments(assignments)
        result = s.attempt(lambda: bias_review.configure_tiers(s.ledger, s.actor, load(s.ledger, s.inspection), wanted))
    else:
        result = bias_review.effective_tiers(bias_review.load(s.ledger, load(s.ledger, s.inspection)).tiers)
    data = {"order": list(TIERS), "tiers": dict(sorted(result.items()))}
    if as_json:
        out_json(data)
        return
    click.echo(f"Reliability tiers, most reliable first: {', '.join(TIERS)}.")
    for kind, tier in data["tiers"].items():
        click.echo(f"  {kind:<18} {tier}")
