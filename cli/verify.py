"""``evidence verify``: re-walk the hash chain and name the first bad position."""

from __future__ import annotations

from pathlib import Path

import click

from cli.session import json_option, out_json, session


@click.command()
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also check a signed checkpoint (catches truncation and wholesale rewrites).")
@click.option("--key", "public_key", type=click.Path(dir_okay=False, path_type=Path),
              help="The public key the checkpoint was signed with (needed with --checkpoint).")
@json_option
def verify(checkpoint_file: Path | None, public_key: Path | None, as_json: bool) -> None:
    """Check every stored event against the hash chain; exit non-zero at the first bad position."""
    from ledger.errors import IntegrityViolation

    ledger = session().ledger
    try:
        count, covered = _check(ledger, checkpoint_file, public_key)
    except IntegrityViolation as error:
        if as_json:  # the finding on standard output too, for scripts; the error line still goes to stderr
            out_json({"verified": error.position - 1, "first_bad_position": error.position, "error": str(error)})
        raise
    position, digest = ledger.head()
    if as_json:
        out_json({"verified": count, "head_position": position, "head_digest": digest.hex(),
                  "checkpoint_covers": covered})
        return
    click.echo(f"Verified {count} events; the chain is intact. Head: position {position}, {digest.hex()}.")
    if covered is not None:
        click.echo(f"The signed checkpoint (position {covered}) matches: nothing it covers was truncated or rewritten.")


def _check(ledger, checkpoint_file: Path | None, public_key: Path | None) -> tuple[int, int | None]:  # noqa: ANN001
    """Verify the chain, and the checkpoint when one is given: (events verified, positions the checkpoint covers)."""
    from ledger.errors import BadInput

    if checkpoint_file is not None:
        if public_key is None:
            raise BadInput("Give the signer's public key with --key to check a checkpoint.")
        from ledger.checkpoint import check, read

        signed = read(checkpoint_file)
        return check(ledger, signed, public_key), signed.size
    return ledger.verify(), None
