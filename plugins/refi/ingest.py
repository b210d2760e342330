"""Turn what a REFI-QDA file held into ledger events, appended in one transaction (all or none).

Codes become emergent codes: REFI names are not unique, so ids are slugs of the names under the parent's id,
numbered (``-2``, ``-3``...) when taken. A code the ledger already has is reused instead of defined again:
one whose GUID is the one the ledger exports it under, or one with the same id, label and parent. Imported
codings are made by the acting person; the note says who coded the passage in the other program and when.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import msgspec

from ledger import codebook as codebook_module
from ledger import source as source_module
from ledger.codebook import CODE_ID, Code, CodebookState, CodeDefined, codebook_id, slug
from ledger.coding import CodingRequest, prepare
from ledger.errors import BadInput
from ledger.source import NewSource, Source, parse_kind, registration, source_id
from plugins.refi.model import code_guid

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.events import Event, Role
    from ledger.inspection import Inspection
    from plugins.refi.model import RefiCode, RefiProject


class CodePlan(msgspec.Struct, kw_only=True):
    """REFI GUID -> ledger code id, the codes to define, and the ones the ledger already had."""

    ids: dict[str, str]
    new: list[Code]
    reused: list[str]
    categories: int = 0


def plan_codes(codes: tuple[RefiCode, ...], codebook: CodebookState) -> CodePlan:
    """Map each code of the file to an existing or new code id (parents come first in ``codes``)."""
    exported = {code_guid(cid): cid for cid in codebook.codes}
    taken = set(codebook.codes)
    plan = CodePlan(ids={}, new=[], reused=[])
    for code in codes:
        parent = plan.ids.get(code.parent) if code.parent else None
        label = code.name or "unnamed code"
        plan.categories += not code.codable
        existing = exported.get(code.guid)
        if existing is None:
            candidate = f"{parent}/{slug(label)}" if parent else slug(label)
            same = codebook.codes.get(candidate)
            if same is not None and same.label == label and same.parent == parent:
                existing = candidate
        if existing is not None:
            plan.ids[code.guid] = existing
            plan.reused.append(existing)
            continue
        base = f"{parent}/{slug(label)}" if parent else slug(label)
        new_id, number = base, 2
        while new_id in taken:
            new_id, number = f"{base}-{number}", number + 1
        if not CODE_ID.match(new_id):
            raise BadInput(f"The code {label!r} gives the id {new_id!r}, which the ledger cannot use; rename it.")
        taken.add(new_id)
        plan.ids[code.guid] = new_id
        plan.new.append(Code(id=new_id, label=label, parent=parent, description=code.description,
                             origin="emergent"))
    return plan


def _definitions(ledger: Ledger, actor: str, role: Role, inspection: Inspection, codebook: CodebookState,
                 codes: list[Code], rationale: str) -> tuple[list[Event], CodebookState]:
    """CodeDefined events for ``codes`` in order, and the codebook as it will stand after them."""
    assert inspection.id is not None
    events: list[Event] = []
    state: CodebookState | None = codebook if codebook.version else None
    for code in codes:
        target = state if state is not None else codebook_id(inspection.id)
        event = ledger.event(CodeDefined, target, actor, role, inspection=inspection.id, code=code,
                             rationale=rationale)
        state = CodebookState.project(state, [event])
        events.append(event)
    return events, state if state is not None else codebook


def _reason(rationale: str) -> str:
    if not rationale.strip():
        raise BadInput("Say why the file is imported with --because TEXT; the reason is kept in the ledger.")
    return rationale.strip()


def import_codebook(ledger: Ledger, actor: str, inspection: Inspection, codes: tuple[RefiCode, ...],
                    rationale: str) -> CodePlan:
    """Define the file's codes as emergent codes in one append; returns what was defined and reused."""
    role = inspection.require(actor, "code.define")
    reason = _reason(rationale)
    codebook = codebook_module.load(ledger, inspection)
    plan = plan_codes(codes, codebook)
    events, _ = _definitions(ledger, actor, role, inspection, codebook, plan.new, reason)
    if events:
        ledger.append(*events)
    return plan


class ProjectResult(msgspec.Struct, kw_only=True):
    """What a project import did."""

    codes: CodePlan
    sources_added: list[str]
    sources_existing: list[str]
    codings: int


def import_project(ledger: Ledger, actor: str, inspection: Inspection, project: RefiProject, *, filename: str,
                   kind: str, rationale: str) -> ProjectResult:
    """Register the project's sources, define its codes and apply its codings, all in one append."""
    role = inspection.require(actor, "source.add")
    inspection.require(actor, "code.define")
    reason = _reason(rationale)
    chosen_kind = parse_kind(kind)
    assert inspection.id is not None
    codebook = codebook_module.load(ledger, inspection)
    plan = plan_codes(project.codes, codebook)
    events, codebook = _definitions(ledger, actor, role, inspection, codebook, plan.new, reason)
    added: list[str] = []
    existing: list[str] = []
    codings = 0
    seen: dict[uuid.UUID, Source] = {}
    for item in project.sources:
        sid = source_id(inspection.id, item.text)
        target = seen.get(sid)
        if target is None and ledger.exists(sid):
            target = source_module.load(ledger, sid.hex, inspection)
            existing.append(sid.hex)
        elif target is None:
            new = NewSource(title=item.name, text=item.text, kind=chosen_kind, format="refi-qda", filename=filename,
                            metadata={"refi_guid": item.guid, "refi_origin": project.origin})
            event = registration(ledger, sid, actor, role, inspection.id, new, None)
            events.append(event)
            target = Source.project(None, [event])
            assert target is not None
            added.append(sid.hex)
        seen[sid] = target
        for selection in item.selections:
            coder = selection.user or "an unnamed user"
            note = (f"Imported from {filename} ({project.origin or 'REFI-QDA'}): coded by {coder}"
                    + (f" on {selection.created}" if selection.created else "") + ".")
            for guid in selection.codes:
                request = CodingRequest(code=plan.ids[guid], valence="neutral", start=selection.start,
                                        end=selection.end, note=note)
                events.append(prepare(ledger, actor, inspection, target, codebook, request))
                codings += 1
    if events:
        ledger.append(*events)
    return ProjectResult(codes=plan, sources_added=added, sources_existing=existing, codings=codings)
