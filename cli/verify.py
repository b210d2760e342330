"""``evidence verify``: re-walk the hash chain and name the first bad position."""

from __future__ import annotations

import click

from cli.session import json_option, out_json, session


@click.command()
@json_option
def verify(as_json: bool) -> None:
    """Check every stored event against the hash chain; exit non-zero at the first bad position."""
    ledger = session().ledger
    count = ledger.verify()
    position, digest = ledger.head()
    if as_json:
        out_json({"verified": count, "head_position": position, "head_digest": digest.hex()})
    else:
        click.echo(f"Verified {count} events; the chain is intact. Head: position {position}, {digest.hex()}.")
