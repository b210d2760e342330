"""Read untrusted REFI-QDA files: a codebook (.qdc) or a project archive (.qdpx), into ``plugins.refi.model``.

XML goes through ``plugins.importers.safety.parse_xml`` (no DTDs or entities) and archives through ``SafeZip``
(members read in memory by exact name, sizes and ratios capped). A source's text is taken only from an
``internal://`` path naming a member of the archive's ``sources/`` (or ``Sources/``) folder; ``relative://`` and
``absolute://`` paths are refused, since following them would read files outside the archive. Positions are
converted to code points of the exact text, per the exporting program's counting policy (``POLICIES``).
Everything the ledger cannot hold is counted in ``discarded`` so the user can be told.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import msgspec

from ledger.errors import ImportRejected
from plugins.importers.safety import SafeZip, parse_xml
from plugins.refi.model import (
    RefiCode,
    RefiProject,
    RefiSelection,
    RefiSource,
    normal_guid,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SOURCE_FOLDERS = ("sources/", "Sources/")


class PositionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How a program counts positions: CRLF as one character, and/or astral characters as two (UTF-16)."""

    crlf_counts_one: bool = False
    utf16_units: bool = False


#: Lower-case fragment of ``Project@origin`` -> its counting policy; anything else counts code points.
#: NVivo and MAXQDA count CRLF as two (the default); NVivo's UTF-16 counting is unconfirmed, so not listed.
POLICIES: tuple[tuple[str, PositionPolicy], ...] = (("atlas", PositionPolicy(crlf_counts_one=True)),)


def policy_for(origin: str) -> PositionPolicy:
    lowered = origin.lower()
    return next((policy for key, policy in POLICIES if key in lowered), PositionPolicy())


def _local(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def _namespace(element: Element) -> str:
    return element.tag[1:].partition("}")[0] if element.tag.startswith("{") else ""


def _root(element: Element, name: str, urn: str, where: str) -> None:
    """Check the root element, accepting namespace spellings like ``1.0`` and ``1:0``."""
    if _local(element) != name or not _namespace(element).lower().startswith(urn.lower()):
        raise ImportRejected(
            "not-refi", f"{where} is not a REFI-QDA {name} (its root element is {_local(element)!r} in "
            f"namespace {_namespace(element)!r}); export it again as REFI-QDA.",
        )


def _guid(element: Element, attribute: str, where: str) -> str:
    value = normal_guid(element.get(attribute))
    if not GUID.match(value):
        raise ImportRejected(
            "bad-guid", f"{where}: a {_local(element)} has {attribute}={element.get(attribute)!r}, which is not "
            "a GUID; the file is damaged, export it again.",
        )
    return value


def _codes(holder: Element, where: str, discarded: Counter[str]) -> tuple[RefiCode, ...]:
    """Flatten a ``Codes`` element, parents first; duplicate GUIDs are refused."""
    out: list[RefiCode] = []
    seen: set[str] = set()
    todo: list[tuple[Element, str | None]] = [(c, None) for c in reversed(list(holder))]
    while todo:
        element, parent = todo.pop()
        if _local(element) != "Code":
            discarded[_local(element)] += 1
            continue
        guid = _guid(element, "guid", where)
        if guid in seen:
            raise ImportRejected(
                "duplicate-guid", f"{where}: two codes share the GUID {guid}, so codings cannot be told apart; "
                "export the codebook again.",
            )
        seen.add(guid)
        if element.get("color"):
            discarded["Code colour"] += 1
        description = ""
        children = []
        for child in element:
            name = _local(child)
            if name == "Description":
                description = (child.text or "").strip()
            elif name == "Code":
                children.append(child)
            else:
                discarded[name] += 1
        out.append(RefiCode(guid=guid, name=(element.get("name") or "").strip(), parent=parent,
                            codable=(element.get("isCodable") or "true").strip().lower() not in ("false", "0"),
                            description=description))
        todo.extend((child, guid) for child in reversed(children))
    return tuple(out)


def read_codebook(data: bytes, filename: str) -> tuple[tuple[RefiCode, ...], dict[str, int]]:
    """The codes of a .qdc file and what was discarded (element name -> count)."""
    root = parse_xml(data, filename)
    _root(root, "CodeBook", "urn:QDA-XML:codebook", filename)
    discarded: Counter[str] = Counter()
    codes: tuple[RefiCode, ...] = ()
    for child in root:
        if _local(child) == "Codes":
            codes = _codes(child, filename, discarded)
        else:
            discarded[_local(child)] += max(len(child), 1)
    if not codes:
        raise ImportRejected("empty", f"{filename} holds no codes; nothing was imported.")
    return codes, dict(sorted(discarded.items()))


# --- projects --------------------------------------------------------------------------------------


def _member(path: str, archive: SafeZip, where: str) -> str:
    """The archive member an ``internal://`` path names; other schemes are refused with the reason."""
    scheme, _, rest = path.strip().partition("://")
    scheme = scheme.lower()
    if scheme in ("relative", "absolute"):
        raise ImportRejected(
            "external-source", f"{where} points outside the archive ({path!r}); the ledger does not read "
            "files a project names elsewhere on a computer, so export the project with its sources embedded.",
        )
    if scheme != "internal" or not rest or "/" in rest or "\\" in rest:
        raise ImportRejected("bad-path", f"{where} has the source path {path!r}, which is not internal://FILE; "
                             "export the project again.")
    for folder in SOURCE_FOLDERS:
        if folder + rest in archive:
            return folder + rest
    raise ImportRejected("missing-member", f"{where} names {path!r} but the archive holds no sources/{rest}; "
                         "export the project again.")


def decode_text(data: bytes, where: str) -> str:
    """UTF-8 text exactly as stored (no newline translation), one leading byte-order mark removed."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportRejected("not-utf8", f"{where} is not UTF-8 text; export the project again.") from None
    return text.removeprefix("\ufeff")


def position_map(text: str, policy: PositionPolicy) -> list[int] | None:
    """Counted position -> code-point index (-1 where a position splits a character); None: the same."""
    if not (policy.crlf_counts_one and "\r\n" in text) and not (policy.utf16_units and not text.isascii()):
        return None
    mapping: list[int] = []
    for index, char in enumerate(text):
        units = 2 if policy.utf16_units and ord(char) > 0xFFFF else 1
        if policy.crlf_counts_one and char == "\n" and text.startswith("\r", index - 1) and index:
            units = 0  # the CR before it stood for the whole line break
        if units:
            mapping.append(index)
            mapping.extend([-1] * (units - 1))
    mapping.append(len(text))
    return mapping


def _selection(element: Element, text: str, mapping: list[int] | None, codes: set[str], users: dict[str, str],
               where: str) -> RefiSelection:
    guid = _guid(element, "guid", where)
    try:
        counted = int(element.get("startPosition", "")), int(element.get("endPosition", ""))
    except ValueError:
        raise ImportRejected("bad-position", f"{where}: selection {guid} has no whole-number positions; "
                             "export the project again.") from None
    start, end = counted
    if mapping is not None:
        start, end = (mapping[p] if 0 <= p < len(mapping) else -1 for p in counted)
    if not 0 <= start < end <= len(text):
        raise ImportRejected(
            "bad-position", f"{where}: selection {guid} spans {counted[0]}:{counted[1]}, which is not a passage "
            f"of the {len(text)}-character text; export the project again.",
        )
    refs = []
    for coding in element:
        if _local(coding) != "Coding":
            continue
        for ref in coding:
            if _local(ref) == "CodeRef":
                target = _guid(ref, "targetGUID", where)
                if target not in codes:
                    raise ImportRejected(
                        "dangling-reference", f"{where}: selection {guid} is coded with {target}, which no code "
                        "in the file has; the project is incomplete, export it again.",
                    )
                refs.append(target)
    user = normal_guid(element.get("creatingUser"))
    return RefiSelection(guid=guid, start=start, end=end, codes=tuple(dict.fromkeys(refs)),
                         user=users.get(user, user), created=(element.get("creationDateTime") or "").strip())


def _text_source(element: Element, archive: SafeZip, policy: PositionPolicy, codes: set[str],
                 users: dict[str, str], discarded: Counter[str], filename: str) -> RefiSource | None:
    guid = _guid(element, "guid", filename)
    where = f"{filename}: source {element.get('name') or guid}"
    path = element.get("plainTextPath")
    content = next((c for c in element if _local(c) == "PlainTextContent"), None)
    if path:
        text = decode_text(archive.read(_member(path, archive, where)), where)
    elif content is not None:
        text = (content.text or "").removeprefix("\ufeff")
    else:
        raise ImportRejected("missing-text", f"{where} has neither plainTextPath nor PlainTextContent; "
                             "export the project again.")
    mapping = position_map(text, policy)
    selections = []
    for child in element:
        name = _local(child)
        if name == "PlainTextSelection":
            if not any(_local(c) == "Coding" for c in child):
                discarded["PlainTextSelection without a Coding (annotation)"] += 1
                continue
            selections.append(_selection(child, text, mapping, codes, users, where))
            extra = sum(1 for c in child if _local(c) in ("Description", "NoteRef"))
            discarded["selection Description or NoteRef"] += extra
        elif name != "PlainTextContent":
            discarded[f"TextSource {name}"] += 1
    if not text.strip():
        discarded["empty TextSource"] += 1
        return None
    return RefiSource(guid=guid, name=(element.get("name") or "").strip() or guid, text=text,
                      selections=tuple(selections))


def read_project(data: bytes, filename: str) -> RefiProject:
    """The codes, users and text sources of a .qdpx archive, with positions in code points."""
    archive = SafeZip(data, filename)
    if "project.qde" not in archive:
        raise ImportRejected("missing-member", f"{filename} holds no project.qde, so it is not a REFI-QDA "
                             "project; export it again as .qdpx.")
    root = archive.read_xml("project.qde")
    where = f"{filename}: project.qde"
    _root(root, "Project", "urn:QDA-XML:project", where)
    origin = (root.get("origin") or "").strip()
    discarded: Counter[str] = Counter()
    users: dict[str, str] = {}
    codes: tuple[RefiCode, ...] = ()
    text_sources: list[Element] = []
    for child in root:
        name = _local(child)
        if name == "Users":
            users = {_guid(u, "guid", where): (u.get("name") or u.get("id") or "").strip()
                     for u in child if _local(u) == "User"}
        elif name == "CodeBook":
            codes = next((_codes(c, where, discarded) for c in child if _local(c) == "Codes"), ())
        elif name == "Sources":
            for source in child:
                if _local(source) == "TextSource":
                    text_sources.append(source)
                else:
                    discarded[_local(source)] += 1
        else:
            discarded[name] += max(len(child), 1)
    policy = policy_for(origin)
    known = {code.guid for code in codes}
    sources = tuple(
        s for s in (_text_source(e, archive, policy, known, users, discarded, filename) for e in text_sources) if s
    )
    if not sources:
        raise ImportRejected("empty", f"{filename} holds no text sources the ledger can take; nothing was imported.")
    return RefiProject(name=(root.get("name") or "").strip(), origin=origin, codes=codes, sources=sources,
                       users=users, discarded=dict(sorted(discarded.items())))
