"""Find the ledger: ``EVIDENCE_LEDGER_URL``, or a ``.evidence/`` folder found by walking up (as git finds .git).

``.evidence/config.toml`` holds the database URL, the default user and the current inspection.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from ledger.errors import BadInput, NotALedger

FOLDER = ".evidence"
CONFIG = "config.toml"
DEFAULT_DB = "ledger.db"


class Config(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Settings kept in ``.evidence/config.toml``."""

    url: str
    user: str = ""
    inspection: str = ""


class Located(msgspec.Struct, kw_only=True):
    """Where the ledger is: its URL, and the folder holding its config (None when from the environment)."""

    url: str
    folder: Path | None
    config: Config


def find_folder(start: Path) -> Path | None:
    """The nearest ``.evidence`` folder at or above ``start``."""
    for directory in (start, *start.parents):
        candidate = directory / FOLDER
        if (candidate / CONFIG).is_file():
            return candidate
    return None


def read_config(folder: Path) -> Config:
    try:
        return msgspec.toml.decode((folder / CONFIG).read_bytes(), type=Config)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise BadInput(f"{folder / CONFIG} is not a valid ledger config ({error}); fix or re-create it.") from None


def write_config(folder: Path, config: Config) -> None:
    """Write the config as TOML (written by hand: three string keys, quoted with JSON escaping)."""
    lines = [f"{key} = {msgspec.json.encode(getattr(config, key)).decode()}" for key in ("url", "user", "inspection")]
    tmp = folder / (CONFIG + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(folder / CONFIG)


def locate(start: Path | None = None) -> Located:
    """The ledger to use from here, or NotALedger saying how to make one."""
    url = os.environ.get("EVIDENCE_LEDGER_URL", "").strip()
    folder = find_folder((start or Path.cwd()).resolve())
    config = read_config(folder) if folder else None
    if url:
        return Located(url=url, folder=folder, config=config or Config(url=url))
    if folder is None or config is None:
        raise NotALedger(
            "No ledger here: no .evidence folder in this directory or above it; run 'evidence init' "
            "or set EVIDENCE_LEDGER_URL."
        )
    return Located(url=resolve_url(config.url, folder), folder=folder, config=config)


def resolve_url(url: str, folder: Path) -> str:
    """A relative SQLite path in the config is relative to the ``.evidence`` folder (which can then be moved).

    Only the returned URL is absolute; the config keeps what the user wrote.
    """
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else None
    if path is not None and not Path(path).is_absolute():
        return f"sqlite:///{(folder / path).resolve()}"
    return url


def default_url() -> str:
    """The SQLite file inside the ``.evidence`` folder (relative, so the folder can be moved)."""
    return f"sqlite:///{DEFAULT_DB}"
