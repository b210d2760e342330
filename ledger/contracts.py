"""Data contracts shared by the core and plugins: msgspec Structs for data, Protocols for behaviour.

Plugins return these from the ``register_*`` hooks (see ``ledger.hookspecs``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Grades, best first. Ofsted's own data files code them 1-4, and 5 for "not judged".
GRADES: tuple[str, ...] = ("outstanding", "good", "requires-improvement", "inadequate")
NOT_JUDGED = "not-judged"

Severity = Literal["error", "warning", "info"]


# --- frameworks ------------------------------------------------------------------------------


class JudgmentArea(msgspec.Struct, frozen=True, kw_only=True):
    """One judgment of a framework (overall, a key judgment, a graded sub-judgment, a separate review)."""

    id: str
    title: str
    kind: Literal["overall", "key", "sub", "separate"]
    parent: str | None = None
    allows_not_judged: bool = False


class RuleFinding(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one framework rule over a set of grades: an ``error`` blocks finalising."""

    rule: str
    severity: Severity
    message: str
    areas: tuple[str, ...] = ()


@runtime_checkable
class Framework(Protocol):
    """A judgment structure with its grade scale and combination rules."""

    name: str
    title: str
    grades: tuple[str, ...]
    areas: tuple[JudgmentArea, ...]
    grade_meanings: Mapping[str, str]

    def check(self, grades: Mapping[str, str]) -> list[RuleFinding]:
        """Run hard rules (``error``) and observed norms (``warning``) over ``{area id: grade}``."""
        ...


# --- codebooks -------------------------------------------------------------------------------

Facet = Literal["process", "practice", "impact"]


class CodeSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A pre-specified code: its id is unique in its codebook; ``parent`` is another code's id."""

    id: str
    label: str
    parent: str | None = None
    description: str = ""
    facet: Facet | None = None


class Codebook(msgspec.Struct, frozen=True, kw_only=True):
    """A tree of pre-specified codes that an inspection can bring in with ``evidence codebook use``."""

    name: str
    title: str
    framework: str
    codes: tuple[CodeSpec, ...]


# --- importers -------------------------------------------------------------------------------


class ImportedSource(msgspec.Struct, frozen=True, kw_only=True):
    """What an importer read from a file: the exact text to store and what the file said about it.

    ``pages`` holds the code-point offset at which each page (or sheet, or section) starts.
    Fields left ``None`` fall back to the command-line options.
    """

    title: str
    text: str
    format: str
    kind: str | None = None
    case: str | None = None
    collected_at: datetime | None = None
    annex_a: int | None = None
    tier: str | None = None
    pages: tuple[int, ...] = ()
    metadata: dict[str, str] = {}


@runtime_checkable
class Importer(Protocol):
    """Turns the bytes of one file into sources. Must raise ``ImportRejected`` and nothing else on bad input."""

    name: str
    extensions: tuple[str, ...]
    description: str

    def read(self, data: bytes, filename: str) -> list[ImportedSource]:
        """Read ``data`` (the whole file, already in memory) and return what it holds."""
        ...


# --- language rules --------------------------------------------------------------------------


class LanguageFinding(msgspec.Struct, frozen=True, kw_only=True):
    """One phrase in report text that a language rule flags, with a calibrated alternative."""

    rule: str
    line: int
    column: int
    offset: int
    length: int
    phrase: str
    message: str
    suggestion: str
    severity: Severity = "warning"


@runtime_checkable
class LanguageRule(Protocol):
    """Finds phrases to use with care (over-confident risk language, unsupported causal claims...)."""

    name: str
    description: str

    def find(self, text: str) -> list[LanguageFinding]:
        """Return every occurrence in ``text``; line and column are 1-based, offset in code points."""
        ...


# --- bias checks -----------------------------------------------------------------------------


class BiasFinding(msgspec.Struct, frozen=True, kw_only=True):
    """A possible analyst bias, with what to do about it and the ledger positions behind it."""

    check: str
    severity: Severity
    title: str
    explanation: str
    advice: str
    positions: tuple[int, ...] = ()
    area: str | None = None
    details: dict[str, Any] = {}


@runtime_checkable
class BiasCheck(Protocol):
    """Reads plain data about an inspection and returns findings (empty for a balanced ledger)."""

    name: str
    bias: str
    description: str

    def run(self, evidence: Any) -> list[BiasFinding]:
        """``evidence`` is the plain-data view built by the projections (documented in docs/bias.md)."""
        ...


# --- report writers --------------------------------------------------------------------------


@runtime_checkable
class ReportWriter(Protocol):
    """Writes a report (plain data built by the projections) in one format."""

    name: str
    format: str
    extension: str

    def write(self, report: Any) -> bytes:
        """Return the whole document."""
        ...

