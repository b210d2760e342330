"""What REFI-QDA files hold, as plain Structs, and the GUID rules both directions share.

GUIDs are compared case-insensitively with braces stripped (ATLAS.ti writes upper case, some tools wrap
them in braces). The ledger's own GUIDs are uuid5s of stable ids, so exporting twice gives the same file.
"""

from __future__ import annotations

import uuid

import msgspec

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"

#: Namespace of the GUIDs the ledger writes (uuid5 of a code id, a person id, a selection...).
GUID_NAMESPACE = uuid.UUID("8f2d7c1e-3b4a-5e6f-9a0b-1c2d3e4f5a6b")


def guid_for(kind: str, key: str) -> str:
    """A stable GUID for a ledger thing that has no UUID of its own (a code id, a person)."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def code_guid(code_id: str) -> str:
    """The GUID a code is exported under: the same for the same code id in every inspection."""
    return guid_for("code", code_id)


def normal_guid(value: str | None) -> str:
    """A GUID as compared: lower case, braces and surrounding blanks removed ("" when missing)."""
    return (value or "").strip().strip("{}").strip().lower()


class RefiCode(msgspec.Struct, frozen=True, kw_only=True):
    """One code read from a file, flattened: parents come before their children."""

    guid: str
    name: str
    parent: str | None = None
    codable: bool = True
    description: str = ""


class RefiSelection(msgspec.Struct, frozen=True, kw_only=True):
    """A coded passage: ``[start, end)`` in code points of the stored text (already converted)."""

    guid: str
    start: int
    end: int
    codes: tuple[str, ...]
    user: str = ""
    created: str = ""


class RefiSource(msgspec.Struct, frozen=True, kw_only=True):
    """A text source with its exact text and coded passages."""

    guid: str
    name: str
    text: str
    selections: tuple[RefiSelection, ...] = ()


class RefiProject(msgspec.Struct, frozen=True, kw_only=True):
    """What a .qdpx holds that the ledger can take in, and a count of what it discarded, by element."""

    name: str
    origin: str
    codes: tuple[RefiCode, ...]
    sources: tuple[RefiSource, ...]
    users: dict[str, str] = {}
    discarded: dict[str, int] = {}
