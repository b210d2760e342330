"""``evidence judge|panel|moderate``: propose, revise, finalise and publish grades; panel and moderation changes.

Appends import neither SQLAlchemy nor rich; ``judge list`` and ``judge profile`` read the projections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from cli.session import json_option, out_json, session

if TYPE_CHECKING:
    from uuid import UUID

    from ledger.application import Ledger
    from ledger.contracts import RuleFinding


def _ids(ledger: Ledger, values: tuple[str, ...], topic: str, what: str) -> list[UUID]:
    """Resolve id prefixes given as repeated options or comma/space separated lists."""
    prefixes = [p for value in values for p in value.replace(",", " ").split()]
    return [ledger.resolve(prefix, [topic], what) for prefix in prefixes]


def _citations(ledger: Ledger, cite: tuple[str, ...], cite_hypothesis: tuple[str, ...]) -> tuple[list, list]:
    from ledger.coding import SegmentCoded
    from ledger.hypothesis import Stated

    return _ids(ledger, cite, SegmentCoded.TOPIC, "coding"), _ids(ledger, cite_hypothesis, Stated.TOPIC, "hypothesis")


def _warn(found: list[RuleFinding]) -> None:
    for finding in found:
        click.echo(f"{finding.severity}: [{finding.rule}] {finding.message}", err=True)


def _context() -> tuple[Any, Any, Any]:
    from cli.framework import framework_of_inspection

    s = session()
    inspection, framework = framework_of_inspection()
    return s, inspection, framework


_because = click.option(
    "--because", "rationale", default="", metavar="TEXT", help="Why (required; kept in the ledger)."
)
_cite = click.option("--cite", multiple=True, metavar="CODING",
                     help="A coding the grade rests on (repeat, or separate ids with commas).")
_cite_h = click.option("--cite-hypothesis", "cite_hypothesis", multiple=True, metavar="H",
                       help="A hypothesis the grade rests on (repeat, or separate ids with commas).")


@click.group()
def judge() -> None:
    """Propose, revise, finalise and publish the grade of each judgment area."""


@judge.command("propose")
@click.argument("area")
@click.argument("grade")
@_because
@_cite
@_cite_h
def propose(area: str, grade: str, rationale: str, cite: tuple[str, ...], cite_hypothesis: tuple[str, ...]) -> None:
    """Propose GRADE for judgment AREA, citing the codings (and hypotheses) it rests on."""
    from ledger import judgment

    s, inspection, framework = _context()
    codings, hypotheses = _citations(s.ledger, cite, cite_hypothesis)
    made = s.attempt(lambda: judgment.propose(
        s.ledger, s.actor, inspection, framework, area, grade, rationale, codings, hypotheses
    ))
    click.echo(f"Proposed {area} as {made.grade}, citing {len(made.codings)} coding(s) and "
               f"{len(made.hypotheses)} hypothesis(es).")


@judge.command("revise")
@click.argument("area")
@click.argument("grade")
@_because
@_cite
@_cite_h
def revise(area: str, grade: str, rationale: str, cite: tuple[str, ...], cite_hypothesis: tuple[str, ...]) -> None:
    """Revise the proposed grade of AREA to GRADE before it is finalised, citing the evidence for it."""
    from ledger import judgment

    s, inspection, framework = _context()
    codings, hypotheses = _citations(s.ledger, cite, cite_hypothesis)
    made = s.attempt(lambda: judgment.revise(
        s.ledger, s.actor, inspection, framework, area, grade, rationale, codings, hypotheses
    ))
    click.echo(f"Revised {area}: now {made.grade}.")


@judge.command("finalise")
@click.argument("area")
@click.option("--nearest", metavar="GRADE", help="The adjacent grade the judgment came nearest to.")
@click.option("--narrative", default="", metavar="TEXT", help="How near the grade came to the adjacent one, and why.")
def finalise(area: str, nearest: str | None, narrative: str) -> None:
    """Finalise the current grade of AREA (lead inspector); a broken hard rule refuses it, norms warn."""
    from ledger import judgment

    s, inspection, framework = _context()
    made, warnings = s.attempt(lambda: judgment.finalise(s.ledger, s.actor, inspection, framework, area, nearest,
                                                         narrative))
    _warn(warnings)
    near = f", nearest {made.nearest}" if made.nearest else ""
    click.echo(f"Finalised {area} as {made.grade}{near}" + (f" with {len(warnings)} warning(s)." if warnings else "."))


@judge.command("publish")
@click.argument("area", required=False)
@click.option("--all", "every", is_flag=True, help="Publish every finalised judgment of the inspection.")
def publish(area: str | None, every: bool) -> None:
    """Publish the finalised judgment of AREA, or of every area with --all (lead inspector)."""
    from ledger import judgment

    if bool(area) == every:
        raise click.BadParameter("give one AREA or --all", param_hint="AREA")
    s, inspection, framework = _context()
    done = s.attempt(lambda: judgment.publish(s.ledger, s.actor, inspection, framework, None if every else [area]))
    click.echo(f"Published {', '.join(done)}.")


@judge.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the current inspection's judgments: grade, status and how many steps led there."""
    from projections import ready
    from projections.judgments import judgments

    s, inspection, _ = _context()
    with ready(s.ledger).connect() as conn:
        rows = judgments(conn, inspection.id)
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo(f"No grades proposed in {inspection.reference} yet; use 'evidence judge propose AREA GRADE'.")
    for row in rows:
        near = f" (nearest {row['nearest']})" if row["nearest"] else ""
        click.echo(f"{row['area']:<16} {row['grade']:<21} {row['status']:<14} {len(row['steps'])} step(s){near}")


@judge.command("profile")
@click.argument("area")
@json_option
def profile(area: str, as_json: bool) -> None:
    """Show the evidence profile of AREA: strengths and weaknesses by theme, against the adjacent grades."""
    from ledger import judgment
    from projections import ready
    from projections.judgments import profile as evidence_profile

    s, inspection, framework = _context()
    judgment.area_of(framework, area)
    with ready(s.ledger).connect() as conn:
        data = evidence_profile(conn, inspection.id, area, scale=tuple(framework.grades),
                                meanings=dict(framework.grade_meanings))
    if as_json:
        out_json(data)
        return
    for line in _profile_lines(data):
        click.echo(line)


def _profile_lines(data: dict[str, Any]) -> list[str]:
    grade = data["grade"] or "not yet proposed"
    lines = [
        f"Evidence profile of {data['area']} (grade: {grade}): {data['codings']} codings from {data['sources']} "
        f"sources across {data['cases']} cases; {data['strengths']} strengths, {data['weaknesses']} weaknesses.",
    ]
    if data["meaning"]:
        lines.append(f"  {grade}: {data['meaning']}")
    lines.append(f"  {'theme':<44} {'str':>4} {'weak':>4} {'neut':>4} {'cases':>5}  bands")
    for row in data["themes"]:
        bands = ", ".join(f"{band} {n}" for band, n in row["bands"].items()) or "-"
        lines.append(f"  {row['label'][:44]:<44} {row['strength']:>4} {row['weakness']:>4} {row['neutral']:>4} "
                     f"{row['cases']:>5}  {bands}")
    for near in data["adjacent"]:
        themes = "; ".join(f"{t['label']} ({t['codings']})" for t in near["themes"]) or "none"
        lines.append(f"Towards {near['grade']} ({near['direction']}): {near['pointing']} codings point this way; "
                     f"mostly {themes}.")
        lines.append(f"  {near['grade']}: {near['meaning']}")
    if data["leans_to"]:
        lines.append(f"On this evidence the grade leans towards {data['leans_to']}; the narrative is yours to write.")
    elif data["adjacent"]:
        lines.append("The evidence does not lean clearly to either adjacent grade; the narrative is yours to write.")
    return lines


# --- the consistency panel ------------------------------------------------------------------


@click.group()
def panel() -> None:
    """Convene a consistency panel, record its grade changes and its decision."""


@panel.command("convene")
@click.option("--members", required=True, metavar="A,B", help="Comma-separated panel members (panel-member role).")
@click.option("--purpose", default="", metavar="TEXT", help="What the panel is asked to look at.")
def convene(members: str, purpose: str) -> None:
    """Convene a consistency panel for the current inspection."""
    from ledger import panel as panels
    from ledger.inspection import load

    s = session()
    inspection = load(s.ledger, s.inspection)
    made = s.attempt(lambda: panels.convene(s.ledger, s.actor, inspection, members.split(","), purpose))
    click.echo(f"Panel {made.number} convened: {', '.join(made.members)}.")


@panel.command("revise")
@click.argument("area")
@click.option("--to", "to", required=True, metavar="GRADE", help="The grade the panel decided on.")
@_because
@click.option("--dissent", default="", metavar="TEXT", help="Any member's disagreement, recorded with the change.")
def panel_revise(area: str, to: str, rationale: str, dissent: str) -> None:
    """Record that the sitting panel changed the grade of AREA (panel members only)."""
    from ledger import judgment

    s, inspection, framework = _context()
    made, found = s.attempt(lambda: judgment.panel_revise(
        s.ledger, s.actor, inspection, framework, area, to, rationale, dissent
    ))
    _warn(found)
    click.echo(f"The panel changed {area} to {made.grade}.")


@panel.command("decide")
@_because
def decide(rationale: str) -> None:
    """Record the sitting panel's decision and close it."""
    from ledger import panel as panels
    from ledger.inspection import load

    s = session()
    inspection = load(s.ledger, s.inspection)
    made = s.attempt(lambda: panels.decide(s.ledger, s.actor, inspection, rationale))
    click.echo(f"Panel {made.number} decided and rose.")


@panel.command("list")
@json_option
def panel_list(as_json: bool) -> None:
    """List the current inspection's panels, their members and decisions."""
    from projections import ready
    from projections.judgments import panels as panel_rows

    s, inspection, _ = _context()
    with ready(s.ledger).connect() as conn:
        rows = panel_rows(conn, inspection.id)
    if as_json:
        out_json(rows)
        return
    for row in rows:
        state = f"decided: {row['decision']}" if row["decision"] else "sitting"
        click.echo(f"Panel {row['number']} ({', '.join(row['members'])}), convened by {row['convened_by']}; {state}")


@click.command()
@click.argument("area")
@click.option("--to", "to", required=True, metavar="GRADE", help="The grade moderation settled on.")
@_because
def moderate(area: str, to: str, rationale: str) -> None:
    """Change the grade of AREA in moderation (moderators only), saying why."""
    from ledger import judgment

    s, inspection, framework = _context()
    made, found = s.attempt(lambda: judgment.moderate(s.ledger, s.actor, inspection, framework, area, to, rationale))
    _warn(found)
    click.echo(f"Moderated {area} to {made.grade}.")
