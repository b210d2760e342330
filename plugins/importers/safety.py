"""Safe reading of untrusted zip archives and XML, shared by the .docx (and later .qdpx) importers.

Nothing is ever extracted to disk: members are read in memory by exact name, and every size the archive
declares is checked against the bytes actually produced. XML is parsed with ``defusedxml`` and any
document type declaration is refused, so entity bombs and external references never reach a parser.
Each refusal is an ``ImportRejected`` with a specific code and one sentence for the user.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING, NamedTuple

import msgspec
from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml import ElementTree as SafeElementTree

from ledger.errors import ImportRejected

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


class ZipLimits(msgspec.Struct, frozen=True, kw_only=True):
    """What an archive may hold. The ratio limit applies to members larger than ``ratio_floor`` bytes."""

    max_members: int = 10_000
    max_member_bytes: int = 50 * 2**20
    max_total_bytes: int = 200 * 2**20
    max_ratio: int = 100
    ratio_floor: int = 2**20


DEFAULT_LIMITS = ZipLimits()

#: Element nesting deeper than this is refused; libxml2 (behind python-docx) stops at 256 too.
MAX_XML_DEPTH = 256

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_FLAG_ENCRYPTED = 0x1
_FLAG_STRONG_ENCRYPTION = 0x40
_FLAG_MASKED_HEADERS = 0x2000
_FLAG_UTF8 = 0x800
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 64 * 1024
#: How an entity declaration looks in the encodings XML parsers detect without a declaration.
_ENTITY_MARKERS = tuple("<!ENTITY".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))


class _Member(NamedTuple):
    info: zipfile.ZipInfo
    start: int  # where the compressed bytes begin


class SafeZip:
    """A zip archive in memory whose structure has been checked; read members with ``read(name)``.

    Construction refuses: not a zip, truncated, too many members, unsafe or duplicate names, symlinks,
    encryption, unsupported compression, overlapping entries, and declared sizes or ratios over the limits.
    """

    def __init__(self, data: bytes, filename: str, limits: ZipLimits = DEFAULT_LIMITS) -> None:
        self.filename = filename
        self.limits = limits
        self._data = memoryview(data)
        self._bytes_read = 0
        infos = _open_directory(data, filename, limits)
        _check_members(infos, filename, limits)
        self._members = {m.info.orig_filename: m for m in _locate_entries(data, infos, filename)}
        self.names: tuple[str, ...] = tuple(info.orig_filename for info in infos)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def size(self, name: str) -> int:
        """The uncompressed size the archive declares for ``name`` (already checked against the limits)."""
        return self._member(name).info.file_size

    def read(self, name: str) -> bytes:
        """The bytes of the member named exactly ``name``, counting what decompression really produces."""
        member = self._member(name)
        info = member.info
        raw = self._data[member.start : member.start + info.compress_size]
        if info.compress_type == zipfile.ZIP_STORED:
            content = bytes(raw)
            self._count(len(content), len(content), info)
        else:
            content = self._inflate(raw, info)
        if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
            raise ImportRejected(
                "corrupt-zip",
                f"{self.filename}: member {name!r} does not match its recorded size or checksum, so the "
                "archive is damaged; export or copy it again.",
            )
        return content

    def read_xml(self, name: str) -> Element:
        """The member ``name`` parsed as XML by ``parse_xml`` (no DTDs, entities or external references)."""
        return parse_xml(self.read(name), f"{self.filename}: {name}")

    def _member(self, name: str) -> _Member:
        try:
            return self._members[name]
        except KeyError:
            raise ImportRejected(
                "missing-member",
                f"{self.filename} has no member named {name!r}, so it is not the kind of file its name "
                "suggests; check that the right file was chosen.",
            ) from None

    def _inflate(self, raw: memoryview, info: zipfile.ZipInfo) -> bytes:
        decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        chunks: list[bytes] = []
        produced = 0
        pending: bytes | memoryview = raw
        try:
            while True:
                chunk = decompressor.decompress(pending, _CHUNK)
                pending = decompressor.unconsumed_tail
                produced = self._count(produced + len(chunk), len(chunk), info)
                chunks.append(chunk)
                if decompressor.eof or not (chunk or pending):
                    break
            rest = decompressor.flush()
        except zlib.error:
            raise ImportRejected(
                "corrupt-zip",
                f"{self.filename}: member {info.orig_filename!r} cannot be decompressed, so the archive is "
                "damaged; export or copy it again.",
            ) from None
        self._count(produced + len(rest), len(rest), info)
        chunks.append(rest)
        return b"".join(chunks)

    def _count(self, produced: int, new: int, info: zipfile.ZipInfo) -> int:
        """Add ``new`` bytes to the running totals, refusing output beyond the declared or total limits."""
        self._bytes_read += new
        if produced > info.file_size:
            raise ImportRejected(
                "zip-bomb",
                f"{self.filename}: member {info.orig_filename!r} expands beyond the {info.file_size} bytes "
                "its header declares, as zip bombs do; the file was refused.",
            )
        if self._bytes_read > self.limits.max_total_bytes:
            raise ImportRejected(
                "zip-bomb",
                f"{self.filename} expands to more than {_mb(self.limits.max_total_bytes)} when read, over "
                "the limit for one archive; split it into smaller files.",
            )
        return produced


def _mb(size: int) -> str:
    return f"{size / 2**20:g} MB"


def _open_directory(data: bytes, filename: str, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """Parse the central directory, after a cheap bound on the member count that no header can fake."""
    if not data:
        raise ImportRejected("not-a-zip", f"{filename} is empty; choose the file again.")
    # Every directory entry starts with this signature, so the count bounds the members from above
    # before zipfile builds an object for each one (a 100 MB file could otherwise hold ~2 million).
    if data.count(_CENTRAL_SIGNATURE) > limits.max_members:
        raise _too_many(filename, limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except Exception:  # noqa: BLE001 - zipfile raises many types on hostile input; all mean "damaged"
        if data.startswith(_LOCAL_SIGNATURE):
            raise ImportRejected(
                "truncated",
                f"{filename} looks like a zip archive but its end is missing or damaged (it may have been "
                "cut short while copying); copy it again.",
            ) from None
        raise ImportRejected(
            "not-a-zip", f"{filename} is not a zip archive; check that the right file was chosen."
        ) from None
    if len(infos) > limits.max_members:
        raise _too_many(filename, limits)
    return infos


def _too_many(filename: str, limits: ZipLimits) -> ImportRejected:
    return ImportRejected(
        "too-many-members",
        f"{filename} holds more than {limits.max_members:,} members, over the limit for one archive; "
        "split it into smaller files.",
    )


def _check_members(infos: list[zipfile.ZipInfo], filename: str, limits: ZipLimits) -> None:
    """Refuse unsafe names, duplicates, links, encryption, odd compression and oversized members."""
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.orig_filename
        _check_name(name, filename)
        if name.casefold() in seen:
            raise ImportRejected(
                "duplicate-member",
                f"{filename} holds two members named {name!r}, a trick to show different content to "
                "different programs; the file was refused.",
            )
        seen.add(name.casefold())
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ImportRejected(
                "symlink",
                f"{filename}: member {name!r} is a symbolic link, which archives for import must not "
                "contain; the file was refused.",
            )
        if info.flag_bits & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION | _FLAG_MASKED_HEADERS):
            raise _encrypted(filename, name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ImportRejected(
                "unsupported-compression",
                f"{filename}: member {name!r} uses a compression method other than deflate; save the "
                "file again with a standard zip tool or the program that made it.",
            )
        _check_size(info, filename, limits)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ImportRejected(
                "zip-bomb",
                f"{filename} declares more than {_mb(limits.max_total_bytes)} of content, over the limit "
                "for one archive; split it into smaller files.",
            )


def _check_name(name: str, filename: str) -> None:
    if not name or "\x00" in name:
        raise ImportRejected(
            "bad-member-name",
            f"{filename} holds a member with an empty or malformed name; the file was refused.",
        )
    if (
        "\\" in name
        or name.startswith("/")
        or _DRIVE.match(name)
        or ".." in name.split("/")
    ):
        raise ImportRejected(
            "zip-slip",
            f"{filename}: member name {name!r} points outside the archive (an absolute path, a drive, "
            "a backslash or '..'); the file was refused.",
        )


def _check_size(info: zipfile.ZipInfo, filename: str, limits: ZipLimits) -> None:
    name = info.orig_filename
    if info.file_size > limits.max_member_bytes:
        raise ImportRejected(
            "zip-bomb",
            f"{filename}: member {name!r} declares {_mb(info.file_size)}, over the "
            f"{_mb(limits.max_member_bytes)} limit for one member; the file was refused.",
        )
    big = info.file_size > limits.ratio_floor
    if big and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise ImportRejected(
            "zip-bomb",
            f"{filename}: member {name!r} expands more than {limits.max_ratio} times, as zip bombs do; "
            "the file was refused.",
        )


def _encrypted(filename: str, name: str) -> ImportRejected:
    return ImportRejected(
        "encrypted",
        f"{filename}: member {name!r} is encrypted; save the file again without a password and import it.",
    )


def _locate_entries(data: bytes, infos: list[zipfile.ZipInfo], filename: str) -> list[_Member]:
    """Find each member's bytes from its local header and refuse entries that share bytes."""
    members = []
    previous_end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < previous_end:
            raise ImportRejected(
                "zip-bomb",
                f"{filename} has overlapping entries that reuse the same bytes, the structure of a zip "
                "bomb; the file was refused.",
            )
        start = _read_local_header(data, info, filename)
        previous_end = start + info.compress_size
        if previous_end > len(data):
            raise ImportRejected(
                "truncated",
                f"{filename}: member {info.orig_filename!r} runs past the end of the file (it may have "
                "been cut short while copying); copy it again.",
            )
        members.append(_Member(info, start))
    return members


def _read_local_header(data: bytes, info: zipfile.ZipInfo, filename: str) -> int:
    """Check the local header at ``info.header_offset`` agrees with the directory; return the data start."""
    offset = info.header_offset
    fields = None
    if 0 <= offset and offset + _LOCAL_HEADER.size <= len(data):
        fields = _LOCAL_HEADER.unpack_from(data, offset)
    if fields is None or fields[0] != _LOCAL_SIGNATURE:
        raise _damaged_entry(filename, info)
    flags, name_length, extra_length = fields[3], fields[10], fields[11]
    if flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
        raise _encrypted(filename, info.orig_filename)
    name_start = offset + _LOCAL_HEADER.size
    raw_name = bytes(data[name_start : name_start + name_length])
    try:
        local_name = raw_name.decode("utf-8" if flags & _FLAG_UTF8 else "cp437")
    except UnicodeDecodeError:
        raise _damaged_entry(filename, info) from None
    if local_name != info.orig_filename:
        raise _damaged_entry(filename, info)
    return name_start + name_length + extra_length


def _damaged_entry(filename: str, info: zipfile.ZipInfo) -> ImportRejected:
    return ImportRejected(
        "corrupt-zip",
        f"{filename}: the entry for member {info.orig_filename!r} is damaged or disagrees with the "
        "archive directory; export or copy the file again.",
    )


def parse_xml(data: bytes, where: str) -> Element:
    """Parse untrusted XML, refusing any DTD, entity declaration, external reference or deep nesting.

    ``where`` names the file (and member) in messages.
    """
    root: Element | None = None
    depth = 0
    try:
        events = SafeElementTree.iterparse(
            io.BytesIO(data), events=("start", "end"), forbid_dtd=True
        )
        for event, element in events:
            if event == "end":
                depth -= 1
                continue
            depth += 1
            root = element if root is None else root
            if depth > MAX_XML_DEPTH:
                raise ImportRejected(
                    "xml-too-deep",
                    f"{where} nests elements more than {MAX_XML_DEPTH} deep, which no ordinary document "
                    "does; the file was refused.",
                )
    except DTDForbidden as error:
        raise _dtd_rejection(data, where, error) from None
    except DefusedXmlException:
        raise _entities_rejection(where) from None
    except (SyntaxError, ValueError, LookupError) as error:  # ParseError is a SyntaxError
        raise ImportRejected(
            "bad-xml", f"{where} is not well-formed XML ({error}); export or copy the file again."
        ) from None
    if root is None:
        raise ImportRejected("bad-xml", f"{where} holds no XML element; export or copy the file again.")
    return root


def _dtd_rejection(data: bytes, where: str, error: DTDForbidden) -> ImportRejected:
    if any(marker in data for marker in _ENTITY_MARKERS):
        return _entities_rejection(where)
    if error.sysid or error.pubid:
        return ImportRejected(
            "xml-external",
            f"{where} refers to an external document type definition, which could make a reader fetch "
            "files or web addresses; the file was refused.",
        )
    return ImportRejected(
        "xml-dtd",
        f"{where} contains a document type declaration, which ordinary office files never need; the "
        "file was refused.",
    )


def _entities_rejection(where: str) -> ImportRejected:
    return ImportRejected(
        "xml-entities",
        f"{where} declares XML entities, which can expand into an enormous document or read other files "
        "(an entity bomb or XXE attack); the file was refused.",
    )
