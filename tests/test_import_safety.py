"""Hostile files (RELIABILITY.md R11): each refused with its own code, no network, disk or memory blow-up.

Archives are built byte by byte here so every header field can lie. Every test runs in an empty working
directory that must still be empty afterwards, so nothing is ever extracted.
"""

from __future__ import annotations

import io
import os
import random
import socket
import stat
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from typing import NamedTuple

import docx
import pytest

from ledger.errors import ImportRejected
from plugins.importers.safety import SafeZip, ZipLimits, parse_xml
from plugins.importers.word import DocxImporter

LOCAL = struct.Struct("<4s2B4HL2L2H")
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
END = struct.Struct("<4s4H2LH")


class Entry(NamedTuple):
    """One member of a hand-built zip; ``declared_size`` overrides the uncompressed size in both headers."""

    name: str
    data: bytes = b""
    deflate: bool = False
    flags: int = 0
    external_attr: int = 0
    declared_size: int | None = None


def build_zip(entries: list[Entry], *, count: int | None = None) -> bytes:
    """A zip with exactly these entries; ``count`` overrides the member count in the end record."""
    body = bytearray()
    directory = bytearray()
    for entry in entries:
        name = entry.name.encode("utf-8")
        payload = _deflate(entry.data) if entry.deflate else entry.data
        size = len(entry.data) if entry.declared_size is None else entry.declared_size
        method = zipfile.ZIP_DEFLATED if entry.deflate else zipfile.ZIP_STORED
        crc = zlib.crc32(entry.data)
        flags = entry.flags | 0x800
        offset = len(body)
        body += LOCAL.pack(
            b"PK\x03\x04", 20, 0, flags, method, 0, 0x5821, crc, len(payload), size, len(name), 0
        )
        body += name + payload
        directory += CENTRAL.pack(
            b"PK\x01\x02", 20, 3, 20, 0, flags, method, 0, 0x5821, crc, len(payload), size,
            len(name), 0, 0, 0, 0, entry.external_attr, offset,
        )
        directory += name
    total = len(entries) if count is None else count
    end = END.pack(b"PK\x05\x06", 0, 0, min(total, 0xFFFF), min(total, 0xFFFF), len(directory), len(body), 0)
    return bytes(body + directory + end)


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _rejected(data: bytes, code: str, filename: str = "hostile.docx") -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        DocxImporter().read(data, filename)
    assert caught.value.code == code, str(caught.value)
    assert filename in str(caught.value)
    return caught.value


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run in an empty directory and fail if anything was written into it."""
    cwd = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(cwd)
    yield
    assert os.listdir(cwd) == []


@pytest.fixture(scope="module")
def good_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("An ordinary paragraph.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def replace_member(docx_bytes: bytes, name: str, content: bytes) -> bytes:
    """The same .docx with member ``name`` holding ``content``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as source, _new_zip(out) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name else source.read(info))
    return out.getvalue()


def _new_zip(buffer: io.BytesIO) -> zipfile.ZipFile:
    return zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP listener; tests assert nothing ever connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def assert_no_connection(server: socket.socket) -> None:
    # The kernel completes a handshake before accept(), so any attempt during the import is queued here.
    with pytest.raises(BlockingIOError):
        server.accept()


# --- XML attacks inside a .docx -------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""

QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "' + b"A" * 50_000 + b'">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>"
    + b"&a;" * 50_000
    + b"</w:t></w:r></w:p></w:body></w:document>"
)


def _document_with_doctype(doctype: str) -> bytes:
    return (
        f'<?xml version="1.0"?>{doctype}'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"
    ).encode()


@pytest.mark.parametrize(
    "member", ["word/document.xml", "[Content_Types].xml", "_rels/.rels", "docProps/core.xml"]
)
def test_billion_laughs_in_any_part(good_docx: bytes, member: str) -> None:
    tracemalloc.start()
    try:
        _rejected(replace_member(good_docx, member, BILLION_LAUGHS), "xml-entities")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20


def test_xml_part_hidden_under_another_extension(good_docx: bytes) -> None:
    """A part declared as XML in [Content_Types].xml is checked whatever its name ends with."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good_docx)) as source, _new_zip(out) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "[Content_Types].xml":
                override = b'<Override PartName="/word/hidden.dat" ContentType="application/x-custom+xml"/>'
                content = content.replace(b"</Types>", override + b"</Types>")
            target.writestr(info.filename, content)
        target.writestr("word/hidden.dat", BILLION_LAUGHS)
    _rejected(out.getvalue(), "xml-entities")


def test_quadratic_blowup(good_docx: bytes) -> None:
    _rejected(replace_member(good_docx, "word/document.xml", QUADRATIC), "xml-entities")


def test_billion_laughs_in_utf16(good_docx: bytes) -> None:
    hostile = BILLION_LAUGHS.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    _rejected(replace_member(good_docx, "word/document.xml", hostile.encode("utf-16")), "xml-entities")


def test_xxe_file_is_not_read(good_docx: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    canary = tmp_path_factory.mktemp("secret") / "canary.txt"
    canary.write_text("CANARY-7f3a")
    hostile = _document_with_doctype(f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "{canary.as_uri()}">]>')
    error = _rejected(replace_member(good_docx, "word/document.xml", hostile), "xml-entities")
    assert "CANARY" not in str(error)


def test_xxe_loopback_url_is_never_fetched(good_docx: bytes, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    hostile = _document_with_doctype(f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/x">]>')
    _rejected(replace_member(good_docx, "word/document.xml", hostile), "xml-entities")
    assert_no_connection(listener)


def test_parameter_entity_loopback_url_is_never_fetched(good_docx: bytes, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    hostile = _document_with_doctype(
        f'<!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/evil.dtd"> %remote;]>'
    )
    _rejected(replace_member(good_docx, "word/document.xml", hostile), "xml-entities")
    assert_no_connection(listener)


def test_external_dtd_is_never_fetched(good_docx: bytes, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    hostile = _document_with_doctype(f'<!DOCTYPE w:document SYSTEM "http://127.0.0.1:{port}/word.dtd">')
    _rejected(replace_member(good_docx, "word/document.xml", hostile), "xml-external")
    assert_no_connection(listener)


def test_any_doctype_is_refused(good_docx: bytes) -> None:
    hostile = _document_with_doctype("<!DOCTYPE w:document>").replace(b"&xxe;", b"text")
    _rejected(replace_member(good_docx, "word/document.xml", hostile), "xml-dtd")


def test_deep_nesting_is_refused(good_docx: bytes) -> None:
    depth = 10_000  # deep enough to refuse, small enough to stay under the ratio check
    hostile = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    hostile += b"<w:body>" + b"<w:tbl>" * depth + b"</w:tbl>" * depth + b"</w:body></w:document>"
    _rejected(replace_member(good_docx, "word/document.xml", hostile), "xml-too-deep")


def test_malformed_xml_is_refused(good_docx: bytes) -> None:
    _rejected(replace_member(good_docx, "word/document.xml", b"<w:document><unclosed>"), "bad-xml")


def test_parse_xml_returns_the_root_of_safe_xml() -> None:
    root = parse_xml(b"<?xml version='1.0'?><a><b/><c>t</c></a>", "x.xml")
    assert root.tag == "a" and [child.tag for child in root] == ["b", "c"]


# --- archive structure ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "word/../../evil.txt",
        "/etc/evil",
        "C:/Windows/evil.txt",
        "c:evil.txt",
        "word\\..\\..\\evil.txt",
        "..\\evil.txt",
        "word/media/..",
    ],
)
def test_zip_slip_names(name: str) -> None:
    _rejected(build_zip([Entry("[Content_Types].xml", b"<Types/>"), Entry(name, b"x")]), "zip-slip")


def test_symlink_member() -> None:
    link = Entry("word/document.xml", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
    _rejected(build_zip([Entry("[Content_Types].xml", b"<Types/>"), link]), "symlink")


@pytest.mark.parametrize("second", ["word/document.xml", "WORD/Document.xml"])
def test_duplicate_names(second: str) -> None:
    entries = [Entry("word/document.xml", b"<a/>"), Entry(second, b"<b/>")]
    _rejected(build_zip(entries), "duplicate-member")


def test_encrypted_member_flag() -> None:
    _rejected(build_zip([Entry("word/document.xml", b"secret", flags=0x1)]), "encrypted")


def test_unsupported_compression() -> None:
    data = bytearray(build_zip([Entry("word/document.xml", b"<a/>")]))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, central + 10, 12)  # bzip2
    struct.pack_into("<H", data, 8, 12)
    _rejected(bytes(data), "unsupported-compression")


def test_overlapping_entries_sharing_one_local_header() -> None:
    single = build_zip([Entry("a", b"\x00" * 100_000, deflate=True)])
    central_start = single.index(b"PK\x01\x02")
    body, record = single[:central_start], single[central_start : -END.size]
    fields = list(CENTRAL.unpack_from(record))
    directory = record
    for i in range(500):  # more directory records, each with its own name, all pointing at offset 0
        name = f"copy{i}".encode()
        fields[12] = len(name)
        directory += CENTRAL.pack(*fields) + name
    end = END.pack(b"PK\x05\x06", 0, 0, 501, 501, len(directory), len(body), 0)
    _rejected(body + directory + end, "zip-bomb")


def test_overlapping_quoted_entries_zip_bomb() -> None:
    """Fifield's construction: each stored entry's data quotes the next entry's header and the kernel."""
    kernel = b"\x00" * 100_000
    count = 40
    names = [f"{i:02d}.xml".encode() for i in range(count)]
    # Work backwards: the last entry holds the kernel; each earlier one holds the next header + its data.
    payloads: list[bytes] = [kernel]
    for i in range(count - 1, 0, -1):
        header = LOCAL.pack(b"PK\x03\x04", 20, 0, 0x800, 0, 0, 0x5821, zlib.crc32(payloads[0]),
                            len(payloads[0]), len(payloads[0]), len(names[i]), 0) + names[i]
        payloads.insert(0, header + payloads[0])
    first = LOCAL.pack(b"PK\x03\x04", 20, 0, 0x800, 0, 0, 0x5821, zlib.crc32(payloads[0]),
                       len(payloads[0]), len(payloads[0]), len(names[0]), 0) + names[0]
    body = first + payloads[0]
    directory = b""
    offset = 0
    for i in range(count):
        directory += CENTRAL.pack(b"PK\x01\x02", 20, 3, 20, 0, 0x800, 0, 0, 0x5821, zlib.crc32(payloads[i]),
                                  len(payloads[i]), len(payloads[i]), len(names[i]), 0, 0, 0, 0, 0, offset)
        directory += names[i]
        offset += LOCAL.size + len(names[i])
    end = END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)
    _rejected(body + directory + end, "zip-bomb")


def test_high_ratio_member() -> None:
    tracemalloc.start()
    try:
        bomb = build_zip([Entry("word/document.xml", b"\x00" * 20_000_000, deflate=True)])
        tracemalloc.reset_peak()
        _rejected(bomb, "zip-bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20  # refused from the headers, never decompressed


def test_member_over_the_size_limit() -> None:
    _rejected(build_zip([Entry("word/document.xml", b"x" * 1000, declared_size=60 * 2**20)]), "zip-bomb")


def test_total_declared_size_over_the_limit() -> None:
    filler = os.urandom(2**20)
    entries = [Entry(f"word/media/{i}.bin", filler, declared_size=45 * 2**20) for i in range(5)]
    _rejected(build_zip(entries), "zip-bomb")


def test_header_declaring_less_than_the_member_expands_to() -> None:
    tracemalloc.start()
    try:
        bomb = build_zip([Entry("word/document.xml", b"\x00" * 20_000_000, deflate=True, declared_size=100)])
        tracemalloc.reset_peak()
        archive = SafeZip(bomb, "liar.docx")
        with pytest.raises(ImportRejected) as caught:
            archive.read("word/document.xml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.code == "zip-bomb" and "beyond the 100 bytes" in str(caught.value)
    assert peak < 16 * 2**20  # stopped after the first chunk


def test_header_declaring_more_than_the_member_holds() -> None:
    liar = build_zip([Entry("a.xml", b"<a/>" * 10, deflate=True, declared_size=1000)])
    archive = SafeZip(liar, "liar.docx")
    with pytest.raises(ImportRejected) as caught:
        archive.read("a.xml")
    assert caught.value.code == "corrupt-zip"


def test_bytes_read_are_counted_across_reads() -> None:
    archive = SafeZip(build_zip([Entry("a.bin", b"a" * 600)]), "x.zip", ZipLimits(max_total_bytes=1000))
    archive.read("a.bin")
    with pytest.raises(ImportRejected) as caught:
        archive.read("a.bin")
    assert caught.value.code == "zip-bomb"


def test_members_are_read_by_exact_name_only() -> None:
    archive = SafeZip(build_zip([Entry("word/document.xml", b"<a/>")]), "x.docx")
    assert archive.names == ("word/document.xml",) and archive.read("word/document.xml") == b"<a/>"
    for name in ("/word/document.xml", "word/Document.xml", "word/./document.xml"):
        with pytest.raises(ImportRejected) as caught:
            archive.read(name)
        assert caught.value.code == "missing-member"


def test_100k_members() -> None:
    _rejected(build_zip([Entry(f"m{i}") for i in range(100_000)]), "too-many-members")


def test_100k_members_with_an_end_record_that_lies() -> None:
    _rejected(build_zip([Entry(f"m{i}") for i in range(100_000)], count=1), "too-many-members")


def test_member_limit_is_exact() -> None:
    assert len(SafeZip(build_zip([Entry(f"m{i}") for i in range(10_000)]), "x.zip").names) == 10_000
    with pytest.raises(ImportRejected) as caught:
        SafeZip(build_zip([Entry(f"m{i}") for i in range(10_001)]), "x.zip")
    assert caught.value.code == "too-many-members"


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_zip(good_docx: bytes, keep: float) -> None:
    _rejected(good_docx[: int(len(good_docx) * keep)], "truncated")


def test_local_header_disagreeing_with_directory() -> None:
    data = build_zip([Entry("word/document.xml", b"<a/>")])
    smuggled = data.replace(b"word/document.xml", b"word/documenX.xml", 1)
    _rejected(smuggled, "corrupt-zip")


@pytest.mark.parametrize("data", [b"", b"not a zip at all", random.Random(3).randbytes(2048)])
def test_not_a_zip(data: bytes) -> None:
    _rejected(data, "not-a-zip")


def test_a_safe_archive_still_reads(good_docx: bytes) -> None:
    [source] = DocxImporter().read(good_docx, "fine.docx")
    assert source.text == "An ordinary paragraph."
