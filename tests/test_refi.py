"""REFI-QDA exchange: codebooks and projects out of the ledger (schema-valid, exact positions) and back in."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import pytest

from ledger import codebook as codebook_module
from ledger import coding as coding_module
from ledger import inspection as inspection_module
from ledger import memo as memo_module
from ledger import source as source_module
from ledger.coding import CodingRequest
from ledger.errors import BadInput, ImportRejected
from ledger.events import Role
from ledger.pluginmanager import registered
from ledger.source import Kind, NewSource
from plugins.refi import gather
from plugins.refi.ingest import import_codebook, import_project
from plugins.refi.model import CODEBOOK_NS, PROJECT_NS, code_guid
from plugins.refi.reader import read_codebook, read_project
from plugins.refi.writer import codebook_xml, project_archive, schema_errors
from projections import ready

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import CLI

    from ledger.application import Ledger

P = f"{{{PROJECT_NS}}}"
C = f"{{{CODEBOOK_NS}}}"
ACCENTED = "Zoë said she felt listened to 😊\r\nThe social worker, José, visited weekly.\r\nCafé notes: ok."
PLAIN = "Management oversight was visible on the file.\nSupervision was regular and reflective."


@pytest.fixture(autouse=True)
def refi_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the two commands as cli/main.py will, so the CLI tests pass before and after it does."""
    import cli.main

    monkeypatch.setitem(cli.main.COMMANDS, "export", "cli.refi:export")
    monkeypatch.setitem(cli.main.COMMANDS, "import", "cli.refi:import_")


def _inspection(ledger: Ledger, reference: str = "barnet-2017") -> inspection_module.Inspection:
    inspection_module.open_inspection(ledger, "alice", reference, authority="Barnet", framework="ilacs-2018")
    inspection_module.add_member(ledger, "alice", reference, "bob", Role.INSPECTOR, "Bob Inspector")
    return inspection_module.load(ledger, reference)


def _coded_inspection(ledger: Ledger) -> tuple[inspection_module.Inspection, dict[str, str]]:
    """ilacs-2018 codes, two sources (one with accents, emoji and CRLF), codings, one withdrawn, and memos."""
    inspection = _inspection(ledger)
    codebook_module.adopt(ledger, "alice", inspection, registered("register_codebooks")["ilacs-2018"])
    source_module.register(ledger, "bob", inspection, [
        NewSource(title="Case record", text=ACCENTED, kind=Kind.CASE_RECORD),
        NewSource(title="Interview", text=PLAIN, kind=Kind.INTERVIEW),
    ])
    sources = {s.title: s for s in (
        ledger.get(source_module.Source, source_module.source_id(inspection.id, t)) for t in (ACCENTED, PLAIN)
    )}
    book = codebook_module.load(ledger, inspection)
    code = min(c for c in book.codes if c.startswith("leaders/"))
    quotes = {}
    for who, src, quote in (("bob", "Case record", "listened to 😊\r\nThe"), ("bob", "Case record", "Café"),
                            ("alice", "Interview", "Supervision was regular"), ("bob", "Case record", "José")):
        event = coding_module.prepare(ledger, who, inspection, sources[src], book,
                                      CodingRequest(code=code, valence="strength", quote=quote))
        ledger.append(event)
        quotes[event.originator_id.hex] = quote
    withdrawn = next(k for k, v in quotes.items() if v == "José")
    coding_module.withdraw(ledger, "bob", inspection, ledger.get(coding_module.Coding, uuid.UUID(withdrawn)),
                           "mis-coded")
    del quotes[withdrawn]
    memo_module.write(ledger, "bob", inspection, "source", sources["Case record"].id.hex, "Check with the IRO.")
    memo_module.write(ledger, "alice", inspection, "inspection", inspection.id.hex, "Overall picture\r\nis mixed.")
    return inspection, quotes


def _export(ledger: Ledger, inspection: inspection_module.Inspection) -> bytes:
    with ready(ledger).connect() as conn:
        return project_archive(gather.project(conn, inspection.id.hex, inspection.reference, inspection.names))


# --- export --------------------------------------------------------------------------------------------------


def test_project_export_is_schema_valid_and_every_selection_slices_to_the_ledger_quote(ledger: Ledger) -> None:
    inspection, quotes = _coded_inspection(ledger)
    archive = zipfile.ZipFile(io.BytesIO(_export(ledger, inspection)))
    qde = archive.read("project.qde")
    assert schema_errors(qde) == []
    root = ET.fromstring(qde)
    assert [child.tag.removeprefix(P) for child in root] == ["Users", "CodeBook", "Sources", "Notes", "NoteRef"]
    found = {}
    for source in root.iter(f"{P}TextSource"):
        member = "sources/" + source.get("plainTextPath").removeprefix("internal://")
        raw = archive.read(member)
        assert not raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8")
        assert text in (ACCENTED, PLAIN)
        for selection in source.iter(f"{P}PlainTextSelection"):
            made = selection.find(f"{P}Coding")
            assert selection.get("creatingUser") and selection.get("creationDateTime")
            assert made.find(f"{P}CodeRef").get("targetGUID") in {c.get("guid") for c in root.iter(f"{P}Code")}
            found[made.get("guid").replace("-", "")] = text[int(selection.get("startPosition")):
                                                           int(selection.get("endPosition"))]
    assert found == quotes  # the withdrawn coding stays behind; CRLF, accents and emoji slice exactly
    names = {u.get("id"): u.get("name") for u in root.iter(f"{P}User")}
    assert names == {"alice": "alice", "bob": "Bob Inspector"}
    notes = list(root.iter(f"{P}Note"))
    assert sorted(archive.read("sources/" + n.get("plainTextPath")[11:]).decode() for n in notes) == [
        "Check with the IRO.", "Overall picture\r\nis mixed."]


def test_export_is_deterministic_and_leaves_out_merged_codes(ledger: Ledger) -> None:
    inspection, _ = _coded_inspection(ledger)
    first = _export(ledger, inspection)
    assert _export(ledger, inspection) == first
    codebook_module.define(ledger, "bob", inspection, "Visits", parent=None, facet=None, description="",
                           rationale="seen often")
    codebook_module.define(ledger, "bob", inspection, "Home visits", parent="visits", facet=None,
                           description="", rationale="seen often")
    codebook_module.define(ledger, "bob", inspection, "Contact", parent=None, facet=None, description="",
                           rationale="seen often")
    codebook_module.merge(ledger, "bob", inspection, ["visits"], "contact", "same idea")
    with ready(ledger).connect() as conn:
        codes = {c.id: c for c in gather.codes(conn, inspection.id.hex)}
    assert "visits" not in codes
    assert codes["visits/home-visits"].parent is None  # its merged parent is gone, so it moves up


def test_codebook_export_nests_codes_with_stable_guids_and_area_categories(ledger: Ledger) -> None:
    inspection, _ = _coded_inspection(ledger)
    with ready(ledger).connect() as conn:
        codes = gather.codes(conn, inspection.id.hex)
    document = codebook_xml(codes)
    assert schema_errors(document, "codebook") == []
    root = ET.fromstring(document)
    top = {c.get("guid"): c for c in root.find(f"{C}Codes")}
    leaders = top[code_guid("leaders")]
    assert leaders.get("isCodable") == "false"  # an area with themes under it and no codings of its own
    assert leaders.find(f"{C}Description").text.startswith("Themes under the ILACS judgment")
    children = leaders.findall(f"{C}Code")
    assert children and all(c.get("isCodable") == "true" for c in children)
    assert code_guid("leaders/partnerships") in {c.get("guid") for c in children}


# --- codebook import ---------------------------------------------------------------------------------------


def _qdc(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="{CODEBOOK_NS}" origin="NVivo">{body}</CodeBook>'.encode()


G = [str(uuid.UUID(int=i)).upper() for i in range(1, 20)]
NAMED_TWICE = (
    f'<Codes><Code guid="{{{G[0]}}}" name="Voice of the child" isCodable="false" color="#ff0000">'
    f'<Description>What children say</Description>'
    f'<Code guid="{G[1]}" name="Listened to" isCodable="true"/></Code>'
    f'<Code guid="{G[2]}" name="Voice of the child" isCodable="true"/>'
    f'<Code guid="{G[3]}" name="Planning" isCodable="true"><Code guid="{G[4]}" name="Listened to" isCodable="true"/>'
    f'</Code></Codes><Sets><Set guid="{G[5]}" name="Favourites"><MemberCode guid="{G[1]}"/></Set></Sets>'
)


def test_codebook_import_maps_parents_disambiguates_names_and_reports_discards(ledger: Ledger) -> None:
    inspection = _inspection(ledger)
    codes, discarded = read_codebook(_qdc(NAMED_TWICE), "team.qdc")
    assert discarded == {"Code colour": 1, "Sets": 1}
    position = ledger.last_position()
    plan = import_codebook(ledger, "bob", inspection, codes, "bringing NVivo codes in")
    assert ledger.last_position() == position + 5  # one event per code, in a single append
    book = codebook_module.load(ledger, inspection)
    assert {cid: (c.label, c.parent, c.origin) for cid, c in book.codes.items()} == {
        "voice-of-the-child": ("Voice of the child", None, "emergent"),
        "voice-of-the-child/listened-to": ("Listened to", "voice-of-the-child", "emergent"),
        "voice-of-the-child-2": ("Voice of the child", None, "emergent"),
        "planning": ("Planning", None, "emergent"),
        "planning/listened-to": ("Listened to", "planning", "emergent"),
    }
    assert book.codes["voice-of-the-child"].description == "What children say"
    assert plan.categories == 1
    again = import_codebook(ledger, "bob", inspection, codes, "again")
    assert again.new == [] and len(again.reused) == 5  # same names under the same parents: reused


def test_own_codebook_export_imports_back_as_the_same_codes(ledger: Ledger) -> None:
    inspection, _ = _coded_inspection(ledger)
    with ready(ledger).connect() as conn:
        document = codebook_xml(gather.codes(conn, inspection.id.hex))
    position = ledger.last_position()
    plan = import_codebook(ledger, "bob", inspection, read_codebook(document, "x.qdc")[0], "round trip")
    assert plan.new == [] and ledger.last_position() == position


@pytest.mark.parametrize(("document", "code"), [
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><CodeBook>&b;</CodeBook>',
     "xml-entities"),
    (b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.org/x.dtd"><CodeBook/>', "xml-external"),
    (b"<CodeBook><Codes>", "bad-xml"),
    (b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>', "not-refi"),
    (_qdc('<Codes><Code guid="not-a-guid" name="x" isCodable="true"/></Codes>'), "bad-guid"),
    (_qdc(f'<Codes><Code guid="{G[0]}" name="x" isCodable="true"/><Code guid="{G[0].lower()}" name="y" '
          'isCodable="true"/></Codes>'), "duplicate-guid"),
])
def test_hostile_or_broken_codebooks_are_rejected(document: bytes, code: str) -> None:
    with pytest.raises(ImportRejected) as refused:
        read_codebook(document, "bad.qdc")
    assert refused.value.code == code


# --- project import ---------------------------------------------------------------------------------------


def test_own_project_export_imports_into_another_inspection_with_the_same_quotes(ledger: Ledger) -> None:
    first, quotes = _coded_inspection(ledger)
    archive = _export(ledger, first)
    second = _inspection(ledger, "barnet-2018")
    project = read_project(archive, "barnet.qdpx")
    result = import_project(ledger, "bob", second, project, filename="barnet.qdpx", kind="interview",
                            rationale="carry codings over")
    assert len(result.sources_added) == 2 and result.codings == len(quotes)
    with ready(ledger).connect() as conn:
        from projections import evidence

        rows = evidence.codings(conn, second.id.hex)
    assert sorted(r["quote"] for r in rows) == sorted(quotes.values())
    assert all(r["coder"] == "bob" and r["valence"] == "neutral" for r in rows)
    assert {r["note"].split(": coded by ")[1].split(" on ")[0] for r in rows} == {"alice", "Bob Inspector"}
    assert "Notes" in project.discarded


def _qdpx(sources: str, files: dict[str, bytes], *, origin: str = "NVivo 14", codes: str | None = None) -> bytes:
    codebook = codes if codes is not None else f'<CodeBook><Codes><Code guid="{G[9]}" name="Risk" isCodable="true"/></Codes></CodeBook>'
    qde = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1:0" name="p" '
           f'origin="{origin}"><Users><User guid="{G[8]}" name="Dana Analyst"/></Users>{codebook}'
           f'<Sources>{sources}</Sources></Project>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _source(path: str, *selections: tuple[int, int], code: str = G[9]) -> str:
    inner = "".join(
        f'<PlainTextSelection guid="{uuid.uuid4()}" startPosition="{a}" endPosition="{b}" creatingUser="{{{G[8]}}}">'
        f'<Coding guid="{uuid.uuid4()}"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>'
        for a, b in selections
    )
    return f'<TextSource guid="{G[10]}" name="Visit notes" plainTextPath="{path}">{inner}</TextSource>'


CRLF_TEXT = "Line one.\r\nRisk was high 😊.\r\nEnd."


@pytest.mark.parametrize(("origin", "start", "end"), [
    ("NVivo 14", 11, 27),  # CRLF counts as two: code points of the exact text
    ("ATLAS.ti 23", 10, 26),  # ATLAS.ti counts a line break as one
])
def test_positions_follow_the_exporting_programs_counting(origin: str, start: int, end: int) -> None:
    data = _qdpx(_source("internal://a.txt", (start, end)), {"Sources/a.txt": b"\xef\xbb\xbf" + CRLF_TEXT.encode()},
                 origin=origin)
    project = read_project(data, "p.qdpx")
    (source,) = project.sources
    assert source.text == CRLF_TEXT  # byte-order mark gone, CRLF kept
    (selection,) = source.selections
    assert source.text[selection.start:selection.end] == "Risk was high 😊."
    assert selection.codes == (G[9].lower(),) and selection.user == "Dana Analyst"


@pytest.mark.parametrize(("sources", "files", "code"), [
    (_source("absolute://C:/Users/x/a.txt"), {}, "external-source"),
    (_source("relative://a.txt"), {}, "external-source"),
    (_source("internal://../a.txt"), {}, "bad-path"),
    (_source("internal://b.txt"), {"sources/a.txt": b"text"}, "missing-member"),
    (_source("internal://a.txt", (0, 4), code=G[11]), {"sources/a.txt": b"text"}, "dangling-reference"),
    (_source("internal://a.txt", (2, 9)), {"sources/a.txt": b"text"}, "bad-position"),
    (_source("internal://a.txt"), {"sources/a.txt": b"\xff\xfe"}, "not-utf8"),
])
def test_unsafe_or_inconsistent_projects_are_rejected(sources: str, files: dict[str, bytes], code: str) -> None:
    with pytest.raises(ImportRejected) as refused:
        read_project(_qdpx(sources, files), "p.qdpx")
    assert refused.value.code == code
    assert "\n" not in str(refused.value)


def test_a_zip_without_project_qde_or_not_a_zip_is_rejected() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("other.xml", "<x/>")
    for data, code in ((buffer.getvalue(), "missing-member"), (b"plain text", "not-a-zip")):
        with pytest.raises(ImportRejected) as refused:
            read_project(data, "p.qdpx")
        assert refused.value.code == code


def test_project_import_needs_a_reason_and_appends_nothing_when_refused(ledger: Ledger) -> None:
    inspection = _inspection(ledger)
    project = read_project(_qdpx(_source("internal://a.txt", (0, 4)), {"sources/a.txt": b"Risk noted."}), "p.qdpx")
    position = ledger.last_position()
    with pytest.raises(BadInput):
        import_project(ledger, "bob", inspection, project, filename="p.qdpx", kind="interview", rationale=" ")
    with pytest.raises(BadInput):
        import_project(ledger, "bob", inspection, project, filename="p.qdpx", kind="nonsense", rationale="x")
    assert ledger.last_position() == position
    assert ledger.verify() == position


# --- command line -------------------------------------------------------------------------------------------


def test_cli_round_trip_warns_that_the_audit_trail_is_lost(team: CLI, tmp_path: Path) -> None:
    notes = team.cwd / "notes.txt"
    notes.write_bytes(ACCENTED.encode())
    for args in (("codebook", "use", "ilacs-2018"), ("source", "add", str(notes), "--kind", "case-record")):
        assert team(*args).code == 0, team(*args).err
    sid = team("source", "list", "--json").json()[0]["id"]
    coded = team("--as", "bob", "code", "apply", sid[:8], "leaders/partnerships", "--quote", "😊\r\nThe social",
                 "--valence", "strength")
    assert coded.code == 0, coded.err
    out = tmp_path / "barnet.qdpx"
    exported = team("export", "refi", str(out))
    assert exported.code == 0, exported.err
    assert "no history" in exported.out and "audit trail" in exported.out
    assert team("export", "codebook", str(tmp_path / "barnet.qdc")).code == 0
    assert team("inspection", "open", "barnet-2018", "--authority", "Barnet").code == 0
    assert team("-i", "barnet-2018", "member", "add", "bob", "--role", "inspector").code == 0
    imported = team("--as", "bob", "-i", "barnet-2018", "import", "refi", str(out), "--because", "move",
                    "--json").json()
    assert imported["codings"] == 1 and len(imported["sources_added"]) == 1
    listed = team("-i", "barnet-2018", "codings", "--json").json()
    assert [row["quote"] for row in listed] == ["😊\r\nThe social"]
    book = team("--as", "bob", "-i", "barnet-2018", "import", "codebook", str(tmp_path / "barnet.qdc"),
                "--because", "align", "--json").json()
    # The import named its codes from their labels; the codebook's codes are recognised by label and parent.
    assert book["defined"] == [] and len(book["reused"]) == 61


def test_cli_refuses_a_hostile_file_in_one_line_and_leaves_the_ledger_alone(team: CLI, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.qdc"
    bomb.write_bytes(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><CodeBook>&a;</CodeBook>')
    outside = tmp_path / "outside.qdpx"
    outside.write_bytes(_qdpx(_source("absolute:///etc/passwd"), {}))
    before = team.count()
    line = team("--as", "bob", "import", "codebook", str(bomb), "--because", "x").one_line_error()
    assert "entities" in line
    line = team("--as", "bob", "import", "refi", str(outside), "--because", "x").one_line_error()
    assert "outside the archive" in line
    assert team.count() == before
