"""Word documents (.docx): paragraphs and tables in document order, title from the core properties.

python-docx parses with lxml, so before it sees the file the archive is checked by ``safety.SafeZip``
and every XML part python-docx could parse is parsed first with defusedxml, which refuses DTDs,
entities and external references.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ledger.contracts import ImportedSource
from ledger.errors import ImportRejected
from plugins.importers.text import title_from_filename

if TYPE_CHECKING:
    from plugins.importers.safety import SafeZip

CONTENT_TYPES = "[Content_Types].xml"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
WORD_MAIN_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.document.macroenabled.main+xml",
        "application/vnd.ms-word.template.macroenabledtemplate.main+xml",
    }
)


class DocxImporter:
    """Reads the body text of a Word document after checking the archive and its XML are safe."""

    name = "docx"
    extensions = (".docx",)
    description = (
        "Word documents: paragraphs and tables in document order; title from the document properties."
    )

    def read(self, data: bytes, filename: str) -> list[ImportedSource]:
        """One source holding the document's paragraphs and tables (cells by tab, rows by line)."""
        from plugins.importers.safety import SafeZip  # zipfile and defusedxml load only for .docx files

        archive = SafeZip(data, filename)
        check_package(archive)
        title, text, metadata = _extract(data, filename)
        if not text.strip():
            raise ImportRejected(
                "empty",
                f"{filename} has no text to import (it may hold only images); check that the right file "
                "was chosen.",
            )
        return [
            ImportedSource(
                title=title or title_from_filename(filename),
                text=text,
                format=self.name,
                metadata=metadata,
            )
        ]


def check_package(archive: SafeZip) -> None:
    """Refuse archives that are not Word documents, and parse every XML part safely before lxml does."""
    if CONTENT_TYPES not in archive:
        raise _not_word(archive.filename)
    types = archive.read_xml(CONTENT_TYPES)
    defaults = {
        e.get("Extension", "").lower(): e.get("ContentType", "").lower()
        for e in types.iter(f"{_CT}Default")
    }
    overrides = {
        e.get("PartName", "").lower(): e.get("ContentType", "").lower()
        for e in types.iter(f"{_CT}Override")
    }
    if not WORD_MAIN_TYPES & set(overrides.values()):
        raise _not_word(archive.filename)
    for name in archive.names:
        if name == CONTENT_TYPES or name.endswith("/"):
            continue
        extension = name.rpartition(".")[2].lower() if "." in name.rpartition("/")[2] else ""
        content_type = overrides.get("/" + name.lower()) or defaults.get(extension, "")
        is_image = content_type.startswith("image/")  # python-docx keeps images (even SVG) as bytes
        if extension in ("xml", "rels") or (content_type.endswith("xml") and not is_image):
            archive.read_xml(name)


def _not_word(filename: str) -> ImportRejected:
    return ImportRejected(
        "not-docx",
        f"{filename} is a zip archive but not a Word document; save it as .docx (Word document) and "
        "import it again.",
    )


def _extract(data: bytes, filename: str) -> tuple[str, str, dict[str, str]]:
    """``(title, text, metadata)`` read by python-docx from an archive already checked."""
    import docx  # deferred: loading the plugin must stay cheap

    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(_block_text(block) for block in document.iter_inner_content())
        properties = document.core_properties
        title = (properties.title or "").strip()
        metadata = {"author": (properties.author or "").strip()}
        if properties.created is not None:
            metadata["created"] = properties.created.isoformat()
    except Exception as error:  # noqa: BLE001 - python-docx raises many types on damaged files
        raise ImportRejected(
            "corrupt-docx",
            f"{filename} could not be read as a Word document ({type(error).__name__}); open it in Word, "
            "save it again as .docx and import it again.",
        ) from None
    return title, text, {key: value for key, value in metadata.items() if value}


def _block_text(block: Any) -> str:
    """A paragraph's text, or a table's rows (cells joined by tab) including nested tables.

    A cell merged across columns is written once; a cell merged down from the row above is left empty,
    so merged text is never stored twice.
    """
    from docx.table import Table

    if not isinstance(block, Table):
        return block.text
    lines = []
    above: list[Any] = []
    for row in block.rows:
        # python-docx repeats a merged cell's <w:tc> element (``_tc``, its only handle on identity)
        # for every grid column and row it covers.
        elements: list[Any] = []
        texts = []
        for cell in row.cells:
            if elements and cell._tc is elements[-1]:
                continue
            elements.append(cell._tc)
            continued = any(cell._tc is element for element in above)
            texts.append("" if continued else "\n".join(_block_text(b) for b in cell.iter_inner_content()))
        lines.append("\t".join(texts))
        above = elements
    return "\n".join(lines)
