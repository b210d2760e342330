"""``evidence feedback record|list``: verbal feedback given to the authority about a judgment area."""

from __future__ import annotations

import click

from cli.session import json_option, out_json, session

STAGES = ("preparation", "fieldwork", "team-meeting", "feedback", "panel", "moderation", "published")


@click.group()
def feedback() -> None:
    """Record and list the verbal feedback given about each judgment area."""


@feedback.command("record")
@click.argument("message")
@click.option("--stage", required=True, type=click.Choice(STAGES), help="The stage at which it was given.")
@click.option("--area", required=True, metavar="AREA", help="The judgment area it was about.")
@click.option("--grade", metavar="GRADE", help="The grade it indicated, if any.")
@click.option("--audience", default="the local authority", show_default=True, metavar="WHO",
              help="Who it was given to.")
def record(message: str, stage: str, area: str, grade: str | None, audience: str) -> None:
    """Record feedback MESSAGE about an area ('-' reads it from standard input)."""
    import sys

    from cli.framework import framework_of_inspection
    from ledger import feedback as feedbacks

    s = session()
    inspection, framework = framework_of_inspection()
    text = sys.stdin.read() if message == "-" else message
    given = s.attempt(lambda: feedbacks.record(
        s.ledger, s.actor, inspection, framework, area=area, stage=stage, audience=audience, message=text, grade=grade,
    ))
    indicated = f", indicating {given.grade}" if given.grade else ""
    click.echo(f"Recorded feedback on {area} to {given.audience} at the {given.stage} stage{indicated}.")


@feedback.command("list")
@click.option("--area", metavar="AREA", help="Only feedback about this area.")
@json_option
def list_(area: str | None, as_json: bool) -> None:
    """List the feedback given in the current inspection, in the order given."""
    from ledger.inspection import load
    from projections import ready
    from projections.judgments import feedback as feedback_rows

    s = session()
    inspection = load(s.ledger, s.inspection)
    with ready(s.ledger).connect() as conn:
        rows = feedback_rows(conn, inspection.id, area)
    if as_json:
        out_json(rows)
        return
    for row in rows:
        grade = f" [{row['grade']}]" if row["grade"] else ""
        click.echo(f"{row['at'][:16]}  {row['area']:<16} {row['stage']:<12} {row['actor']}{grade}: {row['message']}")
