"""The built-in importers: the shared contract for each, what each reads, guessing, and ``read_file``."""

from __future__ import annotations

import io
import pathlib
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import docx
import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from corpus import EXPECTED, MARKERS, pdf_document, write_corpus

import plugins.importers as importers_module
from ledger.contracts import Importer
from ledger.errors import ImportRejected
from ledger.pluginmanager import guess_importer, new_plugin_manager, registered
from ledger.testing.importers import ImporterContract, check_sources, read_or_reject
from plugins.importers import read_file
from plugins.importers.csvdata import CsvImporter
from plugins.importers.pdf import PAGE_SEPARATOR, PdfImporter
from plugins.importers.text import TextImporter
from plugins.importers.word import DocxImporter

if TYPE_CHECKING:
    import pluggy


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def pm() -> pluggy.PluginManager:
    return new_plugin_manager(load_entry_points=False)


def _samples(corpus: dict[str, pathlib.Path], *keys: str) -> list[tuple[str, bytes]]:
    return [(corpus[key].name, corpus[key].read_bytes()) for key in keys]


def _docx_bytes(*paragraphs: str, title: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _rejected(importer: Importer, data: bytes, filename: str) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        importer.read(data, filename)
    return caught.value


# --- the contract, once per built-in importer ---------------------------------------------------


class TestTextContract(ImporterContract):
    @pytest.fixture
    def importer(self) -> Importer:
        return TextImporter()

    @pytest.fixture
    def samples(self, corpus: dict[str, pathlib.Path]) -> list[tuple[str, bytes]]:
        return _samples(corpus, "interview", "observation", "case_record")


class TestDocxContract(ImporterContract):
    @pytest.fixture
    def importer(self) -> Importer:
        return DocxImporter()

    @pytest.fixture
    def samples(self, corpus: dict[str, pathlib.Path]) -> list[tuple[str, bytes]]:
        return _samples(corpus, "docx")


class TestPdfContract(ImporterContract):
    @pytest.fixture
    def importer(self) -> Importer:
        return PdfImporter()

    @pytest.fixture
    def samples(self, corpus: dict[str, pathlib.Path]) -> list[tuple[str, bytes]]:
        return _samples(corpus, "pdf")


class TestCsvContract(ImporterContract):
    @pytest.fixture
    def importer(self) -> Importer:
        return CsvImporter()

    @pytest.fixture
    def samples(self, corpus: dict[str, pathlib.Path]) -> list[tuple[str, bytes]]:
        return _samples(corpus, "performance_csv") + [("annex-a-list-8.csv", b"child_id;age\nX-1;9\n")]


# --- text -----------------------------------------------------------------------------------------


def test_text_keeps_crlf_accents_and_emoji_exactly(corpus: dict[str, pathlib.Path]) -> None:
    raw = corpus["case_record"].read_bytes().decode("utf-8")
    [source] = TextImporter().read(corpus["case_record"].read_bytes(), "case-record.txt")
    assert "\r\n" in source.text and raw.endswith(source.text)
    start = source.text.index("😊")
    assert source.text[start - 1 : start + 2] == " 😊 "  # one code point, so offsets are code points
    assert source.text.startswith("Case record extract — ")


def test_text_front_matter_fills_the_fields(corpus: dict[str, pathlib.Path]) -> None:
    [source] = TextImporter().read(corpus["observation"].read_bytes(), "obs.md")
    expected = EXPECTED["observation"]
    assert source.title == expected["title"]
    assert (source.kind, source.tier) == (expected["kind"], expected["tier"])
    assert source.annex_a == expected["annex_a"]
    assert source.collected_at == expected["collected_at"]
    assert source.metadata == expected["metadata"]
    assert source.case is not None and source.case.startswith("C-")
    assert source.text.startswith("# Strategy discussion\n")


def test_text_without_front_matter_is_titled_by_file_name() -> None:
    [source] = TextImporter().read(b"Notes from the visit.\n", "visit-notes.txt")
    assert (source.title, source.text, source.kind, source.metadata) == (
        "visit-notes",
        "Notes from the visit.\n",
        None,
        {},
    )


def test_text_strips_exactly_one_bom() -> None:
    [source] = TextImporter().read(b"\xef\xbb\xbf\xef\xbb\xbfhello", "a.txt")
    assert source.text == "\ufeffhello"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
        ("2024-03-05T14:30:00", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00+01:00", datetime(2024, 3, 5, 13, 30, tzinfo=UTC)),
        ("2024-03-05T14:30:00Z", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
    ],
)
def test_text_collected_at_becomes_aware_utc(value: str, expected: datetime) -> None:
    data = f"---\r\ncollected_at: {value}\r\n---\r\nbody\r\n".encode()
    [source] = TextImporter().read(data, "a.txt")
    assert source.collected_at == expected and source.collected_at.tzinfo == UTC
    assert source.text == "body\r\n"


@pytest.mark.parametrize(
    ("front_matter", "needle"),
    [
        ("annex_a: 12", "annex_a '12'"),
        ("annex_a: eight", "annex_a 'eight'"),
        ("collected_at: last tuesday", "collected_at 'last tuesday'"),
        ("just words", "line 2"),
        ("kind: a\nkind: b", "repeats the key 'kind'"),
    ],
)
def test_text_bad_front_matter_is_rejected(front_matter: str, needle: str) -> None:
    error = _rejected(TextImporter(), f"---\n{front_matter}\n---\nbody\n".encode(), "a.md")
    assert error.code == "bad-front-matter" and needle in str(error) and "a.md" in str(error)


def test_text_unclosed_front_matter_is_rejected() -> None:
    error = _rejected(TextImporter(), b"---\nkind: interview\ncase: C-1\n", "a.md")
    assert error.code == "bad-front-matter" and "not closed" in str(error)
    error = _rejected(TextImporter(), b"---\nkind: interview\nbody text\n", "a.md")
    assert "line 3" in str(error) and "closing '---'" in str(error)


def test_text_empty_values_and_comments_are_ignored() -> None:
    [source] = TextImporter().read(b"---\n# who\ntier:\n\nkind: interview\n---\nbody", "a.md")
    assert (source.tier, source.kind, source.metadata) == (None, "interview", {})


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"caf\xe9 notes", "not-utf8"),
        ("notes".encode("utf-16"), "not-utf8"),
        (b"a\x00b", "not-text"),
        (b"  \r\n\t", "empty"),
        (b"---\nkind: x\n---\n", "empty"),
    ],
)
def test_text_refuses_what_is_not_text(data: bytes, code: str) -> None:
    assert _rejected(TextImporter(), data, "a.txt").code == code


def test_not_utf8_message_says_where_and_what_to_do() -> None:
    message = str(_rejected(TextImporter(), b"ok \xff", "notes.txt"))
    assert "byte 3" in message and "UTF-8" in message and "notes.txt" in message


# --- docx -----------------------------------------------------------------------------------------


def test_docx_reads_paragraphs_and_tables_in_order(corpus: dict[str, pathlib.Path]) -> None:
    [source] = DocxImporter().read(corpus["docx"].read_bytes(), "audit.docx")
    assert source.title == EXPECTED["docx"]["title"]
    lines = source.text.split("\n")
    assert lines[0] == "Practice audit summary"
    assert lines[2] == "Case\tGrade\tComment"
    assert lines[3].startswith("C-") and lines[3].count("\t") == 2
    assert lines[-1].startswith(MARKERS["docx"])
    assert source.metadata["author"] == "Synthetic inspector"


def test_docx_merged_cells_are_written_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "wide"
    table.cell(0, 2).text = "tall"
    table.cell(0, 2).merge(table.cell(1, 2))
    table.cell(1, 0).text = "x"
    table.cell(1, 1).text = "y"
    buffer = io.BytesIO()
    document.save(buffer)
    [source] = DocxImporter().read(buffer.getvalue(), "t.docx")
    assert source.text == "wide\ttall\nx\ty\t"


def test_docx_title_falls_back_to_file_name() -> None:
    [source] = DocxImporter().read(_docx_bytes("Some words."), "meeting-notes.docx")
    assert (source.title, source.text) == ("meeting-notes", "Some words.")


def test_docx_without_text_is_rejected() -> None:
    assert _rejected(DocxImporter(), _docx_bytes(), "blank.docx").code == "empty"


def test_other_zip_files_are_not_word_documents() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        archive.writestr("xl/workbook.xml", "<workbook/>")
    error = _rejected(DocxImporter(), buffer.getvalue(), "book.docx")
    assert error.code == "not-docx" and "not a Word document" in str(error)


@settings(max_examples=50, deadline=None, database=None)
@given(st.data())
def test_docx_with_mutated_xml_reads_or_rejects(data: st.DataObject) -> None:
    """Byte flips inside the archive mostly break checksums; this mutates the XML python-docx parses."""
    source = _docx_bytes("First paragraph.", "Second, with a table below.", title="T")
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        parts = ["word/document.xml", "[Content_Types].xml", "word/_rels/document.xml.rels"]
        member = data.draw(st.sampled_from(parts))
        xml = bytearray(archive.read(member))
        for _ in range(data.draw(st.integers(1, 3))):
            at = data.draw(st.integers(0, len(xml) - 1))
            xml[at : at + data.draw(st.integers(0, 8))] = data.draw(st.binary(max_size=8))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in archive.infolist():
                target.writestr(info.filename, bytes(xml) if info.filename == member else archive.read(info))
    read_or_reject(DocxImporter(), out.getvalue(), "mutant.docx")


# --- pdf ------------------------------------------------------------------------------------------


def test_pdf_pages_mark_where_each_page_starts(corpus: dict[str, pathlib.Path]) -> None:
    [source] = PdfImporter().read(corpus["pdf"].read_bytes(), "self-evaluation.pdf")
    assert source.title == EXPECTED["pdf"]["title"]
    assert len(source.pages) == EXPECTED["pdf"]["page_count"] == int(source.metadata["page_count"])
    assert source.text[: source.pages[1]].endswith(PAGE_SEPARATOR)
    assert source.text[source.pages[1] :].startswith("Priorities for the coming year")
    assert MARKERS["pdf"] in source.text[: source.pages[1]]


def test_pdf_latin1_text_survives() -> None:
    data = pdf_document((("Café in Zoë’s school",), ("second page",)), title="")
    [source] = PdfImporter().read(data, "cafe.pdf")
    assert "Café in Zoë’s school" in source.text and source.title == "cafe"


def _encrypted_pdf(*, user_password: str, owner_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_document())))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_with_a_password_is_rejected() -> None:
    error = _rejected(PdfImporter(), _encrypted_pdf(user_password="s3cret", owner_password="own"), "x.pdf")
    assert error.code == "encrypted" and "password" in str(error)


def test_pdf_that_only_restricts_copying_is_read() -> None:
    [source] = PdfImporter().read(_encrypted_pdf(user_password="", owner_password="own"), "x.pdf")
    assert MARKERS["pdf"] in source.text


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"hello, this is not a pdf", "not-a-pdf"),
        (pdf_document()[:400], "truncated"),
        (b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n", "corrupt-pdf"),
        (pdf_document(((" ",), ("",)), title=""), "no-text"),
    ],
)
def test_pdf_bad_files_are_rejected(data: bytes, code: str) -> None:
    assert _rejected(PdfImporter(), data, "x.pdf").code == code


def test_pdf_compressed_pages_are_read() -> None:
    [source] = PdfImporter().read(pdf_document(deflate=True), "x.pdf")
    assert MARKERS["pdf"] in source.text and len(source.pages) == 2


def test_pdf_decompression_bomb_is_refused() -> None:
    bomb = pdf_document((("A" * 60_000_000,),), deflate=True)
    assert len(bomb) < 200_000
    assert _rejected(PdfImporter(), bomb, "bomb.pdf").code == "pdf-bomb"


# --- csv ------------------------------------------------------------------------------------------


def test_csv_keeps_text_and_describes_the_table(corpus: dict[str, pathlib.Path]) -> None:
    data = corpus["performance_csv"].read_bytes()
    [source] = CsvImporter().read(data, "performance-data.csv")
    assert source.text == data.decode()
    assert source.metadata["columns"].split(",")[:3] == ["month", "contacts", "referrals"]
    assert source.metadata["rows"] == "12" and source.metadata["delimiter"] == ","


@pytest.mark.parametrize(
    ("data", "delimiter", "rows"),
    [
        (b"\xef\xbb\xbfid;age;team\r\nA1;9;North\r\nA2;12;South\r\n", ";", "2"),
        (b"id\tage\nA1\t9\n\nA2\t12\n", "\t", "2"),
        (b"child_id,notes\nA1,\"moved school, twice\"\nA2,\n", ",", "2"),
        (b"child_id,notes,\nA1,x,,\nA2\n", ",", "2"),
        (b"single_column\nvalue\n", ",", "1"),
    ],
)
def test_csv_dialects_and_tolerated_shapes(data: bytes, delimiter: str, rows: str) -> None:
    [source] = CsvImporter().read(data, "list.csv")
    assert (source.metadata["delimiter"], source.metadata["rows"]) == (delimiter, rows)
    assert source.text == data.decode("utf-8-sig")


def test_csv_ragged_row_names_the_line() -> None:
    error = _rejected(CsvImporter(), b"id,age\nA1,9\nA2,12\nA3,7,extra,more\nA4,3\n", "list.csv")
    assert error.code == "ragged-csv" and "line 4" in str(error) and "4 values" in str(error)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"1,2,3\n4,5,6\n", "no-header"),
        (b"\n\n , \n", "no-header"),
        (b"\n \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not-utf8"),
        (b"id,age\x00\n", "not-text"),
        (b"id,notes\nA1," + b"x" * 200_000 + b"\n", "bad-csv"),
    ],
)
def test_csv_refuses_what_is_not_a_table(data: bytes, code: str) -> None:
    assert _rejected(CsvImporter(), data, "list.csv").code == code


# --- registration, guessing and read_file ---------------------------------------------------------


def test_plugin_registers_the_four_importers(pm: pluggy.PluginManager) -> None:
    items = registered("register_importers", pm)
    assert [importer.name for importer in items] == ["text", "docx", "pdf", "csv"]
    assert {items.suppliers[name] for name in ("text", "docx", "pdf", "csv")} == {"plugins.importers"}


@pytest.mark.parametrize(
    ("filename", "head", "expected"),
    [
        ("Notes.TXT", b"", "text"),
        ("obs.md", b"", "text"),
        ("AUDIT.Docx", b"", "docx"),
        ("report.PDF", b"", "pdf"),
        ("data.csv", b"", "csv"),
        ("data.tsv", b"", "csv"),
        ("download", b"PK\x03\x04\x14\x00\x00\x00[Content_Types].xml....word/document.xml", "docx"),
        ("download", b"%PDF-1.7\n%\xe2\xe3", "pdf"),
        ("download", b"PK\x03\x04\x14\x00xl/workbook.xml", None),
        ("photo.jpg", b"\xff\xd8\xff\xe0", None),
    ],
)
def test_guess_importer(pm: pluggy.PluginManager, filename: str, head: bytes, expected: str | None) -> None:
    assert guess_importer(filename, head, pm) == expected


def test_read_file_reads_every_corpus_file(pm: pluggy.PluginManager, corpus: dict[str, pathlib.Path]) -> None:
    for key, path in corpus.items():
        [source] = check_sources(read_file(path, pm=pm))
        assert MARKERS[key] in source.text, key


def test_corpus_is_byte_for_byte_deterministic(tmp_path: pathlib.Path) -> None:
    first, second = write_corpus(tmp_path / "a"), write_corpus(tmp_path / "b")
    assert set(first) == {"interview", "observation", "case_record", "performance_csv", "docx", "pdf"}
    for key in first:
        assert first[key].read_bytes() == second[key].read_bytes(), key


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_corpus_files_say_what_expected_says(
    pm: pluggy.PluginManager, corpus: dict[str, pathlib.Path], key: str
) -> None:
    [source] = read_file(corpus[key], pm=pm)
    for field, value in EXPECTED[key].items():
        if field == "metadata":
            assert source.metadata.items() >= value.items()
        elif field == "page_count":
            assert len(source.pages) == value
        else:
            assert getattr(source, field) == value, field


def test_read_file_sniffs_content_without_an_extension(
    pm: pluggy.PluginManager, corpus: dict[str, pathlib.Path], tmp_path: pathlib.Path
) -> None:
    for key in ("docx", "pdf"):
        bare = tmp_path / f"download-{key}"
        bare.write_bytes(corpus[key].read_bytes())
        [source] = read_file(bare, pm=pm)
        assert source.format == key


def test_read_file_format_overrides_the_guess(pm: pluggy.PluginManager, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "export.dat"
    path.write_bytes(b"id,age\nA1,9\n")
    assert read_file(path, format="csv", pm=pm)[0].metadata["rows"] == "1"
    assert read_file(path, format="text", pm=pm)[0].format == "text"


def test_read_file_unknown_format_names_the_supported_ones(
    pm: pluggy.PluginManager, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0")
    for kwargs in ({}, {"format": "jpeg"}):
        with pytest.raises(ImportRejected) as caught:
            read_file(path, pm=pm, **kwargs)
        message = str(caught.value)
        assert caught.value.code == "unsupported"
        assert "text (.txt, .md, .markdown)" in message and "docx (.docx)" in message
        assert "--format" in message


def test_read_file_unreadable_paths(
    pm: pluggy.PluginManager, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in (tmp_path / "missing.txt", tmp_path):
        with pytest.raises(ImportRejected) as caught:
            read_file(path, pm=pm)
        assert caught.value.code == "unreadable" and str(path) in str(caught.value)
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")

    def refuse(self: pathlib.Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pathlib.Path, "open", refuse)
    with pytest.raises(ImportRejected) as caught:
        read_file(locked, pm=pm)
    assert caught.value.code == "unreadable" and "Permission denied" in str(caught.value)


def test_read_file_refuses_files_over_the_size_cap(
    pm: pluggy.PluginManager, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers_module, "MAX_FILE_BYTES", 10)
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 11)
    with pytest.raises(ImportRejected) as caught:
        read_file(path, pm=pm)
    assert caught.value.code == "too-large"
    path.write_bytes(b"x" * 10)
    assert read_file(path, pm=pm)[0].text == "x" * 10


def test_loading_the_plugin_does_not_import_heavy_libraries() -> None:
    code = "import sys, plugins.importers; print('docx' in sys.modules, 'pypdf' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
