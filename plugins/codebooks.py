"""Built-in codebooks (SIF 2013 and ILACS 2018 themes), read from data files in ``plugins/data``.

Each codebook has two levels: a judgment area of its framework (``help-protection``), then the themes
that area's criteria group under (``help-protection/early-help``). Files are decoded strictly: a
misspelt field, a malformed id, a duplicate id or a parent not defined before its child is refused
at load with one sentence naming the file and the code.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

import msgspec

from ledger.contracts import Codebook, CodeSpec
from ledger.errors import BadInput, NotFound
from ledger.hookspecs import hookimpl


def _data_files():  # noqa: ANN202 - an importlib.resources Traversable
    """The packaged data folder (importlib.resources loads only when a data file is read)."""
    from importlib import resources

    return resources.files("plugins.data")

if TYPE_CHECKING:
    from collections.abc import Callable

BUILTIN_CODEBOOKS: tuple[str, ...] = ("sif-2013", "ilacs-2018")
_SUFFIX = ".codebook.json"
_SEGMENT = r"[a-z0-9]+(?:-[a-z0-9]+)*"
#: Lower-case kebab segments joined by "/" (one segment per level).
CODE_ID = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_NAME = re.compile(_SEGMENT)


class _StrictCode(CodeSpec, forbid_unknown_fields=True):
    """A code as written in a file: an unknown field is an error."""


class _StrictCodebook(Codebook, forbid_unknown_fields=True):
    """The on-disk shape of a codebook file, checked before it is decoded as a ``Codebook``."""

    codes: tuple[_StrictCode, ...]


def decode_codebook(data: bytes, source: str) -> Codebook:
    """Decode and validate a codebook file; ``source`` names it in error messages."""
    try:
        msgspec.json.decode(data, type=_StrictCodebook)
        codebook = msgspec.json.decode(data, type=Codebook)
    except msgspec.DecodeError as error:
        raise BadInput(
            f"Codebook file {source} is not valid ({error}); fix it to match ledger.contracts.Codebook."
        ) from None
    problem = codebook_problem(codebook)
    if problem:
        raise BadInput(f"Codebook file {source} is not valid: {problem}.")
    return codebook


def codebook_problem(codebook: Codebook) -> str | None:
    """The first thing wrong with a codebook's names and tree, or None when it is sound."""
    if not _NAME.fullmatch(codebook.name):
        return f"its name {codebook.name!r} must be lower-case kebab, like 'sif-2013'"
    seen: set[str] = set()
    for code in codebook.codes:
        if not CODE_ID.fullmatch(code.id):
            return f"code id {code.id!r} must be lower-case kebab segments joined by '/'"
        if code.id in seen:
            return f"code {code.id!r} is defined twice"
        if not code.label.strip():
            return f"code {code.id!r} has an empty label"
        if code.parent is None:
            if "/" in code.id:
                return f"code {code.id!r} has no parent, so its id must be a single segment"
        elif code.parent not in seen:
            return f"code {code.id!r} has parent {code.parent!r}, which is not defined before it"
        elif code.id.rpartition("/")[0] != code.parent:
            return f"code {code.id!r} must be its parent's id, '/', and one more segment ({code.parent}/...)"
        seen.add(code.id)
    return None


def available_codebooks() -> tuple[str, ...]:
    """Names of the codebook files shipped in ``plugins/data``."""
    files = _data_files()
    return tuple(sorted(f.name[: -len(_SUFFIX)] for f in files.iterdir() if f.name.endswith(_SUFFIX)))


@cache
def load_codebook(name: str) -> Codebook:
    """Read the built-in codebook ``name`` from its data file."""
    known = available_codebooks()
    if name not in known:
        raise NotFound(f"No built-in codebook is named {name!r}; use one of {', '.join(known)}.")
    data = (_data_files() / f"{name}{_SUFFIX}").read_bytes()
    return decode_codebook(data, f"{name}{_SUFFIX}")


@hookimpl
def register_codebooks(register: Callable[[Codebook], None]) -> None:
    """Register the SIF 2013 and ILACS 2018 theme codebooks."""
    for name in BUILTIN_CODEBOOKS:
        register(load_codebook(name))
