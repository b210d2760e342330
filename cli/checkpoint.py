"""``evidence checkpoint``: make signing keys and export signed checkpoints for auditors."""

from __future__ import annotations

from pathlib import Path

import click

from cli.session import session


@click.group()
def checkpoint() -> None:
    """Signed checkpoints that catch truncation or a rewrite of the whole log."""


@checkpoint.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def keygen(directory: Path) -> None:
    """Write a new Ed25519 key pair into DIRECTORY (keep the private key away from the ledger)."""
    from ledger.checkpoint import generate_keys

    private, public = generate_keys(directory)
    click.echo(f"Private key: {private} (keep it secret)\nPublic key: {public} (give it to auditors)")


@checkpoint.command("sign")
@click.option("--key", "key", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Private key (PEM).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the checkpoint here (else stdout).")
def sign_(key: Path, out: Path | None) -> None:
    """Verify the ledger and sign its head; the checkpoint is a small JSON document."""
    import msgspec

    from ledger.checkpoint import sign

    data = msgspec.json.format(msgspec.json.encode(sign(session().ledger, key)), indent=2) + b"\n"
    if out is None:
        click.echo(data.decode(), nl=False)
    else:
        out.write_bytes(data)
        click.echo(f"Wrote checkpoint to {out}.")
