"""``evidence init``: create the ledger here (``.evidence/``), on SQLite by default or at a database URL."""

from __future__ import annotations

from pathlib import Path

import click

from ledger.errors import AlreadyExists


@click.command()
@click.option("--url", metavar="URL", help="Store the ledger at this database URL (default: .evidence/ledger.db).")
@click.option("--user", metavar="PERSON", default="", help="Who acts by default on this machine.")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(url: str | None, user: str, directory: Path) -> None:
    """Create a ledger in DIRECTORY (default: here): a .evidence folder with its config and database."""
    from ledger.application import Ledger
    from ledger.config import FOLDER, Config, default_url, read_config, resolve_url, write_config
    from ledger.storage.url import parse

    folder = directory / FOLDER
    if (folder / "config.toml").exists():
        existing = read_config(folder)
        raise AlreadyExists(f"A ledger exists already in {folder} (at {existing.url}); nothing was changed.")
    chosen = url or default_url()
    parse(chosen)  # refuse a malformed URL before creating anything
    target = resolve_url(chosen, folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        Ledger(target, create=True).close()
    except Exception:
        if not any(folder.iterdir()):
            folder.rmdir()
        raise
    write_config(folder, Config(url=chosen, user=user))
    click.echo(f"Created a ledger in {folder} ({parse(target).display}).")
