"""Write the ledger's current state as REFI-QDA: a codebook (.qdc) or a project archive (.qdpx).

Input is plain data (see ``plugins.refi.gather``). Source texts go into the archive byte for byte (UTF-8, no
byte-order mark, line endings as stored) and selections count code points with the end exclusive, exactly
as the ledger does, so ``text[start:end]`` in any reader gives the coded quote. Only the current state
travels: REFI has no place for history, withdrawals or the reasons behind changes.
"""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import msgspec

from plugins.refi.model import CODEBOOK_NS, PROJECT_NS, code_guid, guid_for

if TYPE_CHECKING:
    from collections.abc import Iterable

ORIGIN = "Evidence Ledger"
#: Fixed member time, so the same ledger state always gives the same archive bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class ExportCode(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str
    parent: str | None = None
    description: str = ""
    codable: bool = True


class ExportSource(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the ledger's source id (32 hex digits)
    title: str
    text: str
    collector: str
    registered_at: str


class ExportCoding(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    source: str
    start: int
    end: int
    code: str
    coder: str
    coded_at: str


class ExportMemo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    target_kind: str
    target: str
    text: str
    author: str
    written_at: str


class ProjectExport(msgspec.Struct, frozen=True, kw_only=True):
    """One inspection's current codebook, sources, codings and memos, ready to write."""

    name: str
    users: dict[str, str]  # person id -> display name
    codes: tuple[ExportCode, ...]
    sources: tuple[ExportSource, ...] = ()
    codings: tuple[ExportCoding, ...] = ()
    memos: tuple[ExportMemo, ...] = ()


def uuid_text(hex_id: str) -> str:
    """A ledger id (32 hex digits) in the 8-4-4-4-12 form the schema wants."""
    h = hex_id.replace("-", "").lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def user_guid(person: str) -> str:
    return guid_for("user", person)


def _code_elements(parent: ET.Element, codes: Iterable[ExportCode], ns: str,
                   notes: dict[str, list[str]] | None = None) -> None:
    """Nest codes under their parents (parents first in ``codes``; unknown parents put the code on top)."""
    elements: dict[str, ET.Element] = {}
    for code in codes:
        holder = elements.get(code.parent or "", parent)
        element = ET.SubElement(holder, "Code", {
            "guid": code_guid(code.id), "name": code.label, "isCodable": "true" if code.codable else "false",
        })
        if code.description:
            ET.SubElement(element, "Description").text = code.description
        for note in (notes or {}).get(code.id, []):
            ET.SubElement(element, "NoteRef", {"targetGUID": note})
        elements[code.id] = element
    # Description and NoteRefs must precede child codes: move children after them.
    for element in elements.values():
        children = [c for c in element if c.tag == "Code"]
        for child in children:
            element.remove(child)
            element.append(child)


def _serialise(root: ET.Element, ns: str) -> bytes:
    """UTF-8 XML with ``ns`` as the default namespace (tags are built unqualified; ElementTree's
    ``default_namespace`` option refuses unqualified attributes, so the declaration is set directly)."""
    root.set("xmlns", ns)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def codebook_xml(codes: Iterable[ExportCode]) -> bytes:
    """A REFI-QDA codebook (.qdc) holding ``codes`` nested by parent."""
    codes = tuple(codes)
    root = ET.Element("CodeBook", {"origin": ORIGIN})
    holder = ET.SubElement(root, "Codes")
    if not codes:
        raise ValueError("A REFI-QDA codebook needs at least one code.")
    _code_elements(holder, codes, CODEBOOK_NS)
    return _serialise(root, CODEBOOK_NS)


def _text_path(guid: str) -> str:
    return f"internal://{guid}.txt"


def project_xml(project: ProjectExport) -> bytes:
    """The project.qde document: Users, CodeBook, Sources, Notes in schema order, empty ones left out."""
    ns = PROJECT_NS
    q = str  # tags are unqualified until _serialise declares the namespace
    root = ET.Element(q("Project"), {"name": project.name, "origin": ORIGIN})
    if project.users:
        users = ET.SubElement(root, q("Users"))
        for person in sorted(project.users):
            ET.SubElement(users, q("User"), {"guid": user_guid(person), "name": project.users[person],
                                             "id": person})
    notes_on: dict[tuple[str, str], list[str]] = {}
    for memo in project.memos:
        notes_on.setdefault((memo.target_kind, memo.target), []).append(uuid_text(memo.id))
    if project.codes:
        book = ET.SubElement(ET.SubElement(root, q("CodeBook")), q("Codes"))
        code_notes = {target: refs for (kind, target), refs in notes_on.items() if kind == "code"}
        _code_elements(book, project.codes, ns, code_notes)
    by_source: dict[str, list[ExportCoding]] = {}
    for coding in project.codings:
        by_source.setdefault(coding.source, []).append(coding)
    if project.sources:
        sources = ET.SubElement(root, q("Sources"))
        for source in project.sources:
            guid = uuid_text(source.id)
            element = ET.SubElement(sources, q("TextSource"), {
                "guid": guid, "name": source.title, "plainTextPath": _text_path(guid),
                "creatingUser": user_guid(source.collector), "creationDateTime": source.registered_at,
            })
            for coding in by_source.get(source.id, []):
                selection = ET.SubElement(element, q("PlainTextSelection"), {
                    "guid": guid_for("selection", coding.id), "startPosition": str(coding.start),
                    "endPosition": str(coding.end), "creatingUser": user_guid(coding.coder),
                    "creationDateTime": coding.coded_at,
                })
                made = ET.SubElement(selection, q("Coding"), {
                    "guid": uuid_text(coding.id), "creatingUser": user_guid(coding.coder),
                    "creationDateTime": coding.coded_at,
                })
                ET.SubElement(made, q("CodeRef"), {"targetGUID": code_guid(coding.code)})
                for ref in notes_on.get(("coding", coding.id), []):
                    ET.SubElement(made, q("NoteRef"), {"targetGUID": ref})
            for ref in notes_on.get(("source", source.id), []):
                ET.SubElement(element, q("NoteRef"), {"targetGUID": ref})
    if project.memos:
        notes = ET.SubElement(root, q("Notes"))
        for memo in project.memos:
            guid = uuid_text(memo.id)
            ET.SubElement(notes, q("Note"), {
                "guid": guid, "name": f"Memo on {memo.target_kind} {memo.target[:8]}",
                "plainTextPath": _text_path(guid), "creatingUser": user_guid(memo.author),
                "creationDateTime": memo.written_at,
            })
    for memo in project.memos:
        if memo.target_kind == "inspection":
            ET.SubElement(root, q("NoteRef"), {"targetGUID": uuid_text(memo.id)})
    return _serialise(root, ns)


def project_archive(project: ProjectExport) -> bytes:
    """The .qdpx bytes: project.qde and ``sources/<GUID>.txt`` for every source and memo."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)

        put("project.qde", project_xml(project))
        for source in project.sources:
            put(f"sources/{uuid_text(source.id)}.txt", source.text.encode("utf-8"))
        for memo in project.memos:
            put(f"sources/{uuid_text(memo.id)}.txt", memo.text.encode("utf-8"))
    return buffer.getvalue()


def schema_errors(document: bytes, kind: str = "project") -> list[str]:
    """Where ``document`` breaks the REFI-QDA schema (``kind``: project or codebook); [] when valid.

    Needs lxml (installed with python-docx). Our own output only: never call this on untrusted input.
    """
    from lxml import etree

    xsd = resources.files("plugins.data").joinpath(f"refi-qda-{kind}.xsd").read_bytes()
    schema = etree.XMLSchema(etree.fromstring(xsd))
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    if schema.validate(etree.fromstring(document, parser)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
