"""PDF documents: the text layer of each page, with ``pages`` giving where each page starts.

pypdf does the reading under tighter decompression limits than its defaults, with external decoders
switched off. A PDF that needs a password to open is refused; one that only restricts printing or
copying (an empty user password) opens in every viewer, so it is read.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from ledger.contracts import ImportedSource
from ledger.errors import ImportRejected
from plugins.importers.text import title_from_filename

if TYPE_CHECKING:
    from types import ModuleType

    from pypdf import PdfReader

#: Placed between pages in the stored text; ``pages`` records where each page begins.
PAGE_SEPARATOR = "\n\f\n"
MAX_PAGES = 5_000
MAX_TEXT_CHARS = 50_000_000
#: pypdf limits (bytes) for any one decompressed stream.
MAX_STREAM_BYTES = 50 * 2**20
#: The PDF header may follow junk, and the end-of-file marker may be followed by junk, within this many bytes.
_MARKER_WINDOW = 1024


def _quiet_pypdf() -> None:
    """pypdf logs the damage it repairs; without a handler Python would print those records to standard error
    whenever the application has not configured logging. Configured handlers still receive them."""
    import logging

    logger = logging.getLogger("pypdf")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


class PdfImporter:
    """Reads a PDF's text layer page by page; scans without text and password-locked files are refused."""

    name = "pdf"
    extensions = (".pdf",)
    description = "PDF documents: the text of each page (scans need OCR first); title from the document info."

    def read(self, data: bytes, filename: str) -> list[ImportedSource]:
        """One source: page texts joined by ``PAGE_SEPARATOR``, with page start offsets in ``pages``."""
        if b"%PDF-" not in data[:_MARKER_WINDOW]:
            raise ImportRejected(
                "not-a-pdf", f"{filename} is not a PDF; check that the right file was chosen."
            )
        if b"%%EOF" not in data[-_MARKER_WINDOW:]:
            raise ImportRejected(
                "truncated",
                f"{filename} has no end-of-file marker, so it was probably cut short while copying; copy "
                "it again.",
            )
        _quiet_pypdf()
        title, page_texts, metadata = _extract(data, filename)
        starts, offset = [], 0
        for text in page_texts:
            starts.append(offset)
            offset += len(text) + len(PAGE_SEPARATOR)
        text = PAGE_SEPARATOR.join(page_texts)
        if not text.strip():
            raise ImportRejected(
                "no-text",
                f"{filename} has no text layer (it is probably a scan); run it through OCR and import the "
                "result.",
            )
        return [
            ImportedSource(
                title=title or title_from_filename(filename),
                text=text,
                format=self.name,
                pages=tuple(starts),
                metadata=metadata,
            )
        ]


def _extract(data: bytes, filename: str) -> tuple[str, list[str], dict[str, str]]:
    """``(title, [text of each page], metadata)`` read by pypdf under the importer's limits."""
    import pypdf  # deferred: loading the plugin must stay cheap

    with _tight_limits(pypdf), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about damage it repairs; the outcome decides
        try:
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and reader.decrypt("") == pypdf.PasswordType.NOT_DECRYPTED:
                raise ImportRejected(
                    "encrypted",
                    f"{filename} needs a password to open; save an unprotected copy and import that.",
                )
            count = len(reader.pages)
            if count > MAX_PAGES:
                raise ImportRejected(
                    "too-large",
                    f"{filename} has {count:,} pages, over the limit of {MAX_PAGES:,}; split it into "
                    "smaller files.",
                )
            texts = _page_texts(reader, filename)
            info = reader.metadata
            title = str(info.title or "").strip() if info else ""
        except ImportRejected:
            raise
        except pypdf.errors.LimitReachedError:
            raise ImportRejected(
                "pdf-bomb",
                f"{filename} goes beyond the PDF reader's safety limits (a decompression bomb, or a "
                "structure far larger than any report); the file was refused.",
            ) from None
        except Exception as error:  # noqa: BLE001 - pypdf raises many types on damaged or hostile files
            raise ImportRejected(
                "corrupt-pdf",
                f"{filename} could not be read as a PDF ({type(error).__name__}); open it in a PDF viewer, "
                "save or print it to a new PDF and import that.",
            ) from None
    return title, texts, {"page_count": str(len(texts))}


def _tight_limits(pypdf: ModuleType) -> AbstractContextManager[object]:
    """pypdf's resource limits, tightened; a pypdf without ``apply_configuration`` keeps its own defaults."""
    apply = getattr(pypdf, "apply_configuration", None)
    if apply is None:
        return nullcontext()
    wanted: dict[str, object] = {
        f"{kind}_maximum_output_length": MAX_STREAM_BYTES
        for kind in ("zlib", "lzw", "run_length", "brotli", "jbig2", "array_based_stream")
    }
    wanted.update(
        maximum_declared_stream_length=MAX_STREAM_BYTES,
        image_maximum_buffer_size=MAX_STREAM_BYTES,
        jbig2dec_binary=None,  # never run an external decoder on untrusted input
    )
    known = {field.name for field in dataclasses.fields(pypdf.Configuration)}
    return apply(**{name: value for name, value in wanted.items() if name in known})


def _page_texts(reader: PdfReader, filename: str) -> list[str]:
    texts: list[str] = []
    total = 0
    for page in reader.pages:
        text = page.extract_text()
        total += len(text)
        if total > MAX_TEXT_CHARS:
            raise ImportRejected(
                "too-large",
                f"{filename} holds more than {MAX_TEXT_CHARS:,} characters of text; split it into "
                "smaller files.",
            )
        texts.append(text)
    return texts
