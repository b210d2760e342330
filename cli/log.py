"""``evidence log``: the event log itself, filterable by aggregate, type, actor and time."""

from __future__ import annotations

from datetime import datetime

import click

from cli.session import json_option, out_json, session, utc_time

BASE_FIELDS = ("originator_id", "originator_version", "timestamp", "actor", "role", "type")


@click.command()
@click.option("--aggregate", metavar="ID", help="Only events of the aggregate whose id starts with ID.")
@click.option("--type", "topic", metavar="TYPE", help="Only events of this type, e.g. Inspection.Opened (or a prefix: Inspection.).")
@click.option("--actor", metavar="PERSON", help="Only events by this person.")
@click.option("--since", callback=utc_time, help="Only events at or after this time (UTC unless stated).")
@click.option("--until", callback=utc_time, help="Only events before this time.")
@click.option("--limit", type=click.IntRange(min=1, max=10**9), help="At most this many events (the latest).")
@json_option
def log(
    aggregate: str | None, topic: str | None, actor: str | None, since: datetime | None,
    until: datetime | None, limit: int | None, as_json: bool,
) -> None:
    """Print the event log in ledger order: position, time, who, what."""
    from collections import deque

    from ledger.events import describe

    from projections.rounds import hidden_events_in

    ledger = session().ledger
    hides_event = hidden_events_in(ledger, session().viewer)
    prefix = aggregate.lower().replace("-", "") if aggregate else None
    rows: deque[dict] = deque(maxlen=limit)
    for position, event in ledger.history():
        if hides_event(event, position):  # blind double coding: before every other filter
            continue
        if prefix and not event.originator_id.hex.startswith(prefix):
            continue
        if topic and not (type(event).TOPIC == topic or (topic.endswith(".") and type(event).TOPIC.startswith(topic))):
            continue
        if actor and event.actor != actor:
            continue
        if since and event.timestamp < since:
            continue
        if until and event.timestamp >= until:
            continue
        data = describe(event)
        data["position"] = position
        rows.append(data)
    if as_json:
        out_json(list(rows))
        return
    for data in rows:
        details = ", ".join(f"{k}={_short(v)}" for k, v in data.items() if k not in BASE_FIELDS and k != "position")
        click.echo(
            f"{data['position']:>6}  {data['timestamp'][:19]}  {data['actor']} ({data['role']})  "
            f"{data['type']}  {data['originator_id'].replace('-', '')[:8]}  {details}"
        )


def _short(value: object, width: int = 60) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
