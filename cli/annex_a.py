"""``evidence annex-a request|cost|report``: the data lists asked of the authority, their cost, and their use.

``request`` and ``cost`` append (lead inspector; they load neither SQLAlchemy nor rich); ``report`` weighs each
item's declared cost against the sources from it, their codings and their citations in judgments.
"""

from __future__ import annotations

from typing import Any

import click

from cli.session import json_option, out_json, session

_note = click.option("--note", default="", metavar="TEXT", help="A remark kept with the record.")


@click.group(name="annex-a")
def annex_a() -> None:
    """Record Annex A data requested from the authority and its cost, and weigh it against its use."""


@annex_a.command("request")
@click.argument("item")
@_note
def request(item: str, note: str) -> None:
    """Record that Annex A ITEM (1-11, or its name) was requested from the authority."""
    from ledger import annex_a as records
    from ledger.inspection import load

    s = session()
    event = s.attempt(lambda: records.request(s.ledger, s.actor, load(s.ledger, s.inspection), item, note))
    click.echo(f"Recorded the request for Annex A item {event.item} ({records.ITEMS[event.item]}).")


@annex_a.command("cost")
@click.argument("item")
@click.option("--hours", required=True, metavar="H", help="Hours the authority declared the item took to produce.")
@click.option("--pounds", metavar="P", help="What it cost in pounds, if declared (e.g. 1250.50).")
@_note
def cost(item: str, hours: str, pounds: str | None, note: str) -> None:
    """Record what the authority declared Annex A ITEM cost to produce (replaces an earlier figure)."""
    from ledger import annex_a as records
    from ledger.inspection import load

    s = session()
    event = s.attempt(lambda: records.declare_cost(
        s.ledger, s.actor, load(s.ledger, s.inspection), item, hours, pounds, note
    ))
    money = f" and £{event.pence // 100:,}.{event.pence % 100:02d}" if event.pence is not None else ""
    click.echo(f"Recorded the cost of Annex A item {event.item} ({records.ITEMS[event.item]}): "
               f"{event.hours} hour(s){money}.")


def _money(pence: int | None) -> str:
    return "" if pence is None else f"£{pence // 100:,}.{pence % 100:02d}"


def _per(row: dict[str, Any]) -> str:
    parts = [f"{row['hours_per_citation']} h" if row["hours_per_citation"] is not None else "",
             _money(row["pence_per_citation"])]
    return ", ".join(p for p in parts if p)


@annex_a.command("report")
@json_option
def report(as_json: bool) -> None:
    """Show each Annex A item's cost against its sources, codings and citations; flag items never cited."""
    from ledger.inspection import load
    from projections import ready
    from projections.annex_a import cost_benefit

    s = session()
    inspection = load(s.ledger, s.inspection)
    with ready(s.ledger).connect() as conn:
        data = cost_benefit(conn, inspection.id)
    if as_json:
        out_json(data)
        return
    click.echo(f"{'Item':<44} {'Asked':<5} {'Hours':>7} {'Cost':>11} {'Sources':>7} {'Codings':>7} "
               f"{'Cited':>5}  Per citation")
    for row in data["items"]:
        name = f"{row['item']:>2} {row['name']}"
        flag = "  NEVER CITED" if row["supplied"] and row["never_cited"] else ""
        click.echo(f"{name:<44} {'yes' if row['requested'] else '':<5} {row['hours'] or '':>7} "
                   f"{_money(row['pence']):>11} {row['sources']:>7} {row['codings']:>7} {row['citations']:>5}  "
                   f"{_per(row)}{flag}")
    money = f" and {_money(data['total_pence'])}" if data["total_pence"] else ""
    per = f" ({_per(data)} per citation)" if data["citations"] else ""
    click.echo(f"Total: {data['total_hours']} hour(s){money} declared, for {data['citations']} citation(s){per}.")
    never = [f"{r['item']} {r['name']}" for r in data["items"] if r["item"] in data["never_cited"]]
    if never:
        click.echo(f"Never cited in a judgment: {', '.join(never)}.")
