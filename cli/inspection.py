"""``evidence inspection|member|stage``: open inspections, build the team, move through the stages."""

from __future__ import annotations

from datetime import date

import click

from cli.session import json_option, out_json, session
from ledger.events import Role

ROLE_CHOICE = click.Choice([str(r) for r in Role])


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD.") from None


@click.group()
def inspection() -> None:
    """Open, list, show and choose inspections."""


@inspection.command("open")
@click.argument("reference")
@click.option("--authority", required=True, help="The local authority inspected.")
@click.option("--framework", default="sif-2013", show_default=True, help="The inspection framework.")
@click.option("--starts", callback=_date, help="First day of fieldwork (YYYY-MM-DD).")
@click.option("--ends", callback=_date, help="Last day of fieldwork (YYYY-MM-DD).")
def open_(reference: str, authority: str, framework: str, starts: date | None, ends: date | None) -> None:
    """Open inspection REFERENCE (e.g. barnet-2017) with you as lead inspector, and make it current."""
    from ledger.errors import BadInput
    from ledger.inspection import open_inspection
    from ledger.pluginmanager import registered

    frameworks = registered("register_frameworks")
    if framework not in frameworks:
        known = ", ".join(sorted(frameworks.items))
        raise BadInput(f"{framework!r} is not a framework this installation knows; use one of: {known}.")
    s = session()
    opened = open_inspection(
        s.ledger, s.actor, reference, authority=authority, framework=framework, starts=starts, ends=ends
    )
    _make_current(reference)
    click.echo(f"Opened inspection {reference} ({opened.authority}, {framework}); {s.actor} is lead inspector.")


def _make_current(reference: str) -> None:
    from ledger.config import write_config

    located = session().located
    if located.folder is not None:
        located.config.inspection = reference
        write_config(located.folder, located.config)


@inspection.command("use")
@click.argument("reference")
def use(reference: str) -> None:
    """Make REFERENCE the current inspection for commands run under this folder."""
    from ledger.inspection import load

    load(session().ledger, reference)
    _make_current(reference)
    click.echo(f"Current inspection: {reference}.")


@inspection.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the inspections in this ledger."""
    from sqlalchemy import select

    from projections import ready
    from projections.inspections import inspections

    engine = ready(session().ledger)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(inspections).order_by(inspections.c.position))]
    data = [
        {
            "reference": r["reference"], "authority": r["authority"], "framework": r["framework"],
            "stage": r["stage"], "lead": r["lead"], "id": r["id"][:8],
            "starts": r["starts"].isoformat() if r["starts"] else None,
        }
        for r in rows
    ]
    if as_json:
        out_json(data)
        return
    if not data:
        click.echo("No inspections yet; open one with 'evidence inspection open REF --authority NAME'.")
    for d in data:
        click.echo(f"{d['reference']:<24} {d['authority']:<28} {d['framework']:<10} {d['stage']:<13} lead {d['lead']}")


@inspection.command("show")
@click.argument("reference", required=False)
@json_option
def show(reference: str | None, as_json: bool) -> None:
    """Show an inspection (default: the current one): team, stage and history of stages."""
    from ledger.inspection import load

    s = session()
    state = load(s.ledger, reference or s.inspection)
    data = {
        "reference": state.reference,
        "id": state.id.hex if state.id else None,
        "authority": state.authority,
        "framework": state.framework,
        "starts": state.starts.isoformat() if state.starts else None,
        "ends": state.ends.isoformat() if state.ends else None,
        "stage": str(state.stage),
        "members": [{"person": p, "role": str(r), "name": state.names.get(p, p)} for p, r in state.members.items()],
        "stages": [{"stage": str(st), "at": at} for st, at in state.stages],
        "events": state.version,
    }
    if as_json:
        out_json(data)
        return
    click.echo(f"{data['reference']} — {data['authority']} ({data['framework']}), stage: {data['stage']}")
    for m in data["members"]:
        click.echo(f"  {m['person']:<20} {m['role']}")


@click.group()
def member() -> None:
    """Add people to the inspection team."""


@member.command("add")
@click.argument("person")
@click.option("--role", type=ROLE_CHOICE, required=True, help="Their role in this inspection.")
@click.option("--name", default="", help="Their display name.")
def member_add(person: str, role: str, name: str) -> None:
    """Add PERSON to the current inspection's team in ROLE (lead inspectors only)."""
    from ledger.inspection import add_member

    s = session()
    before = s.attempt(lambda: add_member(s.ledger, s.actor, s.inspection, person, Role(role), name))
    if before is None:
        click.echo(f"{person} joined {s.inspection} as {role}.")
    else:
        click.echo(f"{person}'s role in {s.inspection} changed from {before} to {role}.")


@click.group()
def stage() -> None:
    """Move the inspection through its stages."""


@stage.command("enter")
@click.argument("name", type=click.Choice(["preparation", "fieldwork", "team-meeting", "feedback", "panel",
                                           "moderation", "published"]))
def stage_enter(name: str) -> None:
    """Record that the current inspection entered stage NAME (lead inspectors only)."""
    from ledger.inspection import Stage, enter_stage

    s = session()
    s.attempt(lambda: enter_stage(s.ledger, s.actor, s.inspection, Stage(name)))
    click.echo(f"{s.inspection} entered the {name} stage.")
