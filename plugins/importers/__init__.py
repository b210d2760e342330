"""The built-in importers (text, docx, pdf, csv) and ``read_file``, which picks one for a file on disk.

Every importer turns bytes into ``ImportedSource`` values and refuses bad or hostile input with
``ImportRejected`` only. Heavy libraries (python-docx, pypdf) load on first use, so loading the plugin
is cheap.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from ledger import pluginmanager
from ledger.errors import ImportRejected
from ledger.hookspecs import hookimpl
from plugins.importers.csvdata import CsvImporter
from plugins.importers.pdf import PdfImporter
from plugins.importers.text import TextImporter
from plugins.importers.word import DocxImporter

if TYPE_CHECKING:
    from collections.abc import Callable

    import pluggy

    from ledger.contracts import ImportedSource, Importer

IMPORTERS: tuple[Importer, ...] = (TextImporter(), DocxImporter(), PdfImporter(), CsvImporter())
#: Files larger than this are refused before they are read into memory.
MAX_FILE_BYTES = 100 * 2**20
#: How many leading bytes ``guess_importer`` is shown.
HEAD_BYTES = 8192

_BY_EXTENSION = {ext: importer.name for importer in IMPORTERS for ext in importer.extensions}


@hookimpl
def register_importers(register: Callable[[Importer], None]) -> None:
    """Register the text, docx, pdf and csv importers."""
    for importer in IMPORTERS:
        register(importer)


@hookimpl
def guess_importer(filename: str, head: bytes) -> str | None:
    """By extension (any case), else by content: a zip holding ``word/`` is docx, ``%PDF-`` is pdf."""
    name = _BY_EXTENSION.get(PurePath(filename).suffix.lower())
    if name:
        return name
    if head.startswith(b"PK\x03\x04") and b"word/" in head:
        return "docx"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


def read_file(
    path: Path, *, format: str | None = None, pm: pluggy.PluginManager | None = None
) -> list[ImportedSource]:
    """Read ``path`` with the importer named ``format``, or the one the plugins guess for it.

    ``pm`` defaults to the process-wide plugin manager. Raises ``ImportRejected`` for a file that cannot
    be read, is too large, matches no importer, or that the importer refuses.
    """
    data = _read_bytes(path)
    importers = pluginmanager.registered("register_importers", pm)
    name = format or pluginmanager.guess_importer(path.name, data[:HEAD_BYTES], pm)
    if name is None or name not in importers:
        supported = "; ".join(
            f"{importer.name} ({', '.join(importer.extensions)})" for importer in importers
        )
        what = f"there is no importer named {name!r}" if format else "its format is not recognised"
        raise ImportRejected(
            "unsupported",
            f"{path.name} cannot be imported because {what}; supported formats: {supported} "
            "(choose one with --format).",
        )
    importer: Importer = importers[name]
    return importer.read(data, path.name)


def _read_bytes(path: Path) -> bytes:
    """The whole file, refusing what is missing, not a regular file, unreadable or too large."""
    try:
        if not path.is_file():
            problem = "is a folder" if path.is_dir() else "does not exist or is not a regular file"
            raise ImportRejected("unreadable", f"{path} {problem}; give the path of a file to import.")
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ImportRejected(
            "unreadable", f"{path} cannot be read ({error.strerror or error}); check its permissions."
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected(
            "too-large",
            f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB, the limit for one import; split it "
            "into smaller files.",
        )
    return data
