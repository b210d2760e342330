"""``evidence backup DEST``: a consistent copy of the ledger, taken while others keep appending.

SQLite is copied with its online backup API (one read snapshot, so the copy holds a prefix of the log) into a
temporary file that is renamed to DEST only once the copy opens as a ledger and its chain verifies.
PostgreSQL is copied with ``pg_dump`` of the ledger's schema (custom format, for ``pg_restore``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.session import json_option, out_json, session
from ledger.errors import AlreadyExists, StorageError

if TYPE_CHECKING:
    from ledger.storage.url import Database

#: How long pg_dump may run before the backup is abandoned (seconds).
PG_DUMP_TIMEOUT = 3600


@click.command()
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def backup(dest: Path, as_json: bool) -> None:
    """Copy the ledger into DEST, a new file, without stopping others; an SQLite copy is verified first."""
    ledger = session().ledger
    if dest.exists():
        raise AlreadyExists(f"{dest} exists already; give the backup a new file name.")
    if not dest.parent.is_dir():
        raise StorageError(f"The folder {dest.parent} does not exist; create it or choose another place.")
    if ledger.database.kind == "sqlite":
        events = backup_sqlite(ledger.database.path, dest)
        data = {"file": str(dest), "format": "sqlite", "events": events, "verified": True}
    else:
        backup_postgres(ledger.database, dest)
        data = {"file": str(dest), "format": "pg_dump-custom", "events": None, "verified": False}
    if as_json:
        out_json(data)
    elif data["format"] == "sqlite":
        click.echo(f"Backed up {data['events']} events into {dest}; the copy verifies.")
    else:
        click.echo(f"Dumped the ledger's schema into {dest}; restore it with pg_restore.")


def backup_sqlite(source: str, dest: Path) -> int:
    """Copy an SQLite ledger into ``dest`` in one read snapshot, verify the copy and return its event count."""
    from ledger.application import Ledger

    partial = dest.with_name(dest.name + ".partial")
    for leftover in (partial, *(partial.with_name(partial.name + end) for end in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(source, timeout=30)) as src, \
                contextlib.closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)  # pages=-1: every page in one step, under one read transaction
        copy = Ledger(f"sqlite:///{partial.resolve()}")
        try:
            events = copy.verify()
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, dest)
    return events


def backup_postgres(db: Database, dest: Path) -> None:
    """Dump the ledger's schema with pg_dump (custom format) into ``dest``."""
    program = shutil.which("pg_dump")
    if program is None:
        raise StorageError(
            "pg_dump is not on PATH; install the PostgreSQL client tools to back up a PostgreSQL ledger."
        )
    partial = dest.with_name(dest.name + ".partial")
    command = [
        program, "--format=custom", f"--schema={db.schema}", f"--file={partial}", "--no-password",
        f"--host={db.host}", f"--port={db.port}", f"--username={db.user}", f"--dbname={db.name}",
    ]
    env = os.environ | ({"PGPASSWORD": db.password} if db.password else {})
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        partial.unlink(missing_ok=True)
        raise StorageError(f"pg_dump ran for more than {PG_DUMP_TIMEOUT} s; try again when the server is quieter.") \
            from None
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        lines = done.stderr.strip().splitlines()
        reason = lines[0] if lines else f"exit status {done.returncode}"
        raise StorageError(f"pg_dump could not back up {db.display} ({reason}); check the server and your access.")
    os.replace(partial, dest)
