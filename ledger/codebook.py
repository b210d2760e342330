"""The Codebook aggregate: one per inspection, the tree of codes inspectors apply to passages.

Pre-specified codes come in with a codebook plugin (``CodebookAdopted``); emergent codes are defined, renamed,
moved, merged and retired with a reason. Nothing is deleted: a merged code points at the code it went into.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

import msgspec

from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.errors import AlreadyExists, BadInput, NotFound
from ledger.events import Event

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.contracts import Codebook as CodebookSpec
    from ledger.inspection import Inspection

Facet = Literal["process", "practice", "impact"]
Origin = Literal["framework", "emergent"]
CODE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$")


class Code(msgspec.Struct, frozen=True, kw_only=True):
    """One code as recorded in the ledger."""

    id: str
    label: str
    parent: str | None = None
    description: str = ""
    facet: Facet | None = None
    origin: Origin = "framework"


class CodebookAdopted(Event, frozen=True, kw_only=True):
    """The inspection brought in a codebook's pre-specified codes."""

    TOPIC = "Codebook.Adopted"
    inspection: UUID
    name: str
    codes: tuple[Code, ...]


class CodeDefined(Event, frozen=True, kw_only=True):
    """An emergent code was defined."""

    TOPIC = "Codebook.CodeDefined"
    inspection: UUID
    code: Code
    rationale: str


class CodeRenamed(Event, frozen=True, kw_only=True):
    """A code's label changed (its id, and the codings under it, stay)."""

    TOPIC = "Codebook.CodeRenamed"
    code: str
    label: str
    rationale: str


class CodeMoved(Event, frozen=True, kw_only=True):
    """A code moved under another parent (or to the top, when ``parent`` is None)."""

    TOPIC = "Codebook.CodeMoved"
    code: str
    parent: str | None
    rationale: str


class CodesMerged(Event, frozen=True, kw_only=True):
    """Codes were merged into one; codings under them now count under ``into``."""

    TOPIC = "Codebook.CodesMerged"
    merged: tuple[str, ...]
    into: str
    rationale: str


class CodeRetired(Event, frozen=True, kw_only=True):
    """A code may no longer be applied (its codings stay)."""

    TOPIC = "Codebook.CodeRetired"
    code: str
    rationale: str


class CodebookState(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.names: list[str] = []
        self.codes: dict[str, Code] = {}
        self.merged_into: dict[str, str] = {}
        self.retired: set[str] = set()

    def _add(self, inspection: UUID, codes: tuple[Code, ...]) -> None:
        self.inspection = inspection
        for code in codes:
            self.codes[code.id] = code

    @applies(CodebookAdopted)
    def _adopted(self, e: CodebookAdopted) -> None:
        self._add(e.inspection, e.codes)
        self.names.append(e.name)

    @applies(CodeDefined)
    def _defined(self, e: CodeDefined) -> None:
        self._add(e.inspection, (e.code,))

    @applies(CodeRenamed)
    def _renamed(self, e: CodeRenamed) -> None:
        self.codes[e.code] = msgspec.structs.replace(self.codes[e.code], label=e.label)

    @applies(CodeMoved)
    def _moved(self, e: CodeMoved) -> None:
        self.codes[e.code] = msgspec.structs.replace(self.codes[e.code], parent=e.parent)

    @applies(CodesMerged)
    def _merged(self, e: CodesMerged) -> None:
        for code in e.merged:
            self.merged_into[code] = e.into

    @applies(CodeRetired)
    def _retired(self, e: CodeRetired) -> None:
        self.retired.add(e.code)

    # --- queries -------------------------------------------------------------------------------

    def current(self, code: str) -> str:
        """Follow merges to the code that now stands for ``code``."""
        while code in self.merged_into:
            code = self.merged_into[code]
        return code

    def active(self, code: str) -> bool:
        return code in self.codes and code not in self.retired and code not in self.merged_into

    def children(self, code: str) -> list[str]:
        return [c.id for c in self.codes.values() if c.parent == code]

    def descendants(self, code: str) -> list[str]:
        out, todo = [], [code]
        while todo:
            for child in self.children(todo.pop()):
                out.append(child)
                todo.append(child)
        return out

    def resolve(self, ref: str) -> str:
        """A code id from its full id, a unique id suffix after '/', or a unique label (case-insensitive)."""
        ref = ref.strip()
        if ref in self.codes:
            return ref
        lowered = ref.lower()
        matches = [c.id for c in self.codes.values() if c.id.endswith("/" + lowered) or c.label.lower() == lowered]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(
                f"No code {ref!r} in this inspection's codebook; see 'evidence code tree', or define it with "
                "'evidence code define'."
            )
        raise BadInput(f"{ref!r} matches several codes ({', '.join(sorted(matches)[:5])}); give the full id.")


def codebook_id(inspection_id: UUID) -> UUID:
    return natural_id("codebook", inspection_id.hex)


def load(ledger: Ledger, inspection: Inspection) -> CodebookState:
    """The inspection's codebook (empty if none was brought in yet)."""
    assert inspection.id is not None
    cid = codebook_id(inspection.id)
    if not ledger.exists(cid):
        empty = CodebookState()
        empty.inspection = inspection.id
        return empty
    return ledger.get(CodebookState, cid, what="codebook")


def _target(codebook: CodebookState, inspection: Inspection) -> CodebookState | UUID:
    assert inspection.id is not None
    return codebook if codebook.version else codebook_id(inspection.id)


def adopt(ledger: Ledger, actor: str, inspection: Inspection, spec: CodebookSpec) -> int:
    """Bring a codebook's codes into the inspection; codes already present are left as they are."""
    role = inspection.require(actor, "codebook.use")
    codebook = load(ledger, inspection)
    if spec.name in codebook.names:
        raise AlreadyExists(f"Codebook {spec.name!r} is in use in {inspection.reference} already.")
    codes = tuple(
        Code(id=c.id, label=c.label, parent=c.parent, description=c.description, facet=c.facet, origin="framework")
        for c in spec.codes
        if c.id not in codebook.codes
    )
    assert inspection.id is not None
    ledger.append(
        ledger.event(CodebookAdopted, _target(codebook, inspection), actor, role,
                     inspection=inspection.id, name=spec.name, codes=codes)
    )
    return len(codes)


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:48] or "code"


def define(
    ledger: Ledger, actor: str, inspection: Inspection, label: str, *, parent: str | None, facet: str | None,
    description: str, rationale: str, code_id: str | None = None,
) -> str:
    """Define an emergent code under ``parent`` (or at the top); returns its id."""
    role = inspection.require(actor, "code.define")
    codebook = load(ledger, inspection)
    if not label.strip():
        raise BadInput("The code needs a label.")
    if not rationale.strip():
        raise BadInput("Say why the code is needed with --because TEXT.")
    parent_id = codebook.resolve(parent) if parent else None
    if facet not in (None, "process", "practice", "impact"):
        raise BadInput(f"{facet!r} is not a facet; use process, practice or impact.")
    new_id = code_id or (f"{parent_id}/{slug(label)}" if parent_id else slug(label))
    if not CODE_ID.match(new_id):
        raise BadInput(f"{new_id!r} is not a code id; use lower-case words joined by '-' and '/'.")
    if new_id in codebook.codes:
        raise AlreadyExists(f"Code {new_id} exists already.")
    assert inspection.id is not None
    code = Code(id=new_id, label=label.strip(), parent=parent_id, description=description.strip(), facet=facet,
                origin="emergent")  # type: ignore[arg-type]
    ledger.append(ledger.event(CodeDefined, _target(codebook, inspection), actor, role,
                               inspection=inspection.id, code=code, rationale=rationale.strip()))
    return new_id


def _changeable(codebook: CodebookState, ref: str) -> str:
    code = codebook.resolve(ref)
    if not codebook.active(code):
        raise BadInput(f"Code {code} is retired or merged; it cannot be changed.")
    return code


def _reason(rationale: str) -> str:
    if not rationale.strip():
        raise BadInput("Say why with --because TEXT; the reason is kept in the ledger.")
    return rationale.strip()


def rename(ledger: Ledger, actor: str, inspection: Inspection, ref: str, label: str, rationale: str) -> None:
    role = inspection.require(actor, "code.change")
    codebook = load(ledger, inspection)
    code = _changeable(codebook, ref)
    if not label.strip():
        raise BadInput("The new label is empty.")
    ledger.append(ledger.event(CodeRenamed, codebook, actor, role, code=code, label=label.strip(),
                               rationale=_reason(rationale)))


def move(ledger: Ledger, actor: str, inspection: Inspection, ref: str, parent: str | None, rationale: str) -> None:
    role = inspection.require(actor, "code.change")
    codebook = load(ledger, inspection)
    code = _changeable(codebook, ref)
    parent_id = codebook.resolve(parent) if parent else None
    if parent_id is not None and (parent_id == code or parent_id in codebook.descendants(code)):
        raise BadInput(f"Code {code} cannot move under itself or one of its own children.")
    ledger.append(ledger.event(CodeMoved, codebook, actor, role, code=code, parent=parent_id,
                               rationale=_reason(rationale)))


def merge(ledger: Ledger, actor: str, inspection: Inspection, refs: list[str], into: str, rationale: str) -> None:
    role = inspection.require(actor, "code.change")
    codebook = load(ledger, inspection)
    target = _changeable(codebook, into)
    merged = tuple(dict.fromkeys(_changeable(codebook, r) for r in refs))
    if not merged or target in merged:
        raise BadInput("Name the codes to merge and a different code to merge them into (--into).")
    for code in merged:
        if target in codebook.descendants(code):
            raise BadInput(f"Code {code} cannot be merged into {target}, which lies under it; merge the child up instead.")

    ledger.append(ledger.event(CodesMerged, codebook, actor, role, merged=merged, into=target,
                               rationale=_reason(rationale)))


def retire(ledger: Ledger, actor: str, inspection: Inspection, ref: str, rationale: str) -> None:
    role = inspection.require(actor, "code.change")
    codebook = load(ledger, inspection)
    code = _changeable(codebook, ref)
    ledger.append(ledger.event(CodeRetired, codebook, actor, role, code=code, rationale=_reason(rationale)))
