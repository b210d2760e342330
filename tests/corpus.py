"""A small, realistic, entirely synthetic inspection corpus, written byte-for-byte the same each time.

``write_corpus(directory)`` writes one file of each kind an inspection team imports and returns their
paths by key. Names and ids are generated from a fixed seed; nothing here is real child data. The bytes
are deterministic (fixed zip timestamps, fixed document dates), so a file's SHA-256 is stable across
runs, which idempotent-import tests rely on.

``MARKERS`` holds, for each key, a phrase that appears in the text the importer stores, for end-to-end
assertions; ``EXPECTED`` holds what the front matter or document properties say.
"""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

SEED = 20240305
FIXED_TIME = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
_ZIP_TIME = (2024, 3, 4, 9, 0, 0)

FIRST_NAMES = ("Amara", "Ben", "Chloé", "Dylan", "Elif", "Femi", "Grace", "Hamza", "Isla", "Jakub",
               "Kai", "Leah", "Niamh", "Oliver", "Priya", "Reuben", "Sofia", "Tomasz", "Zoë", "José")
WORKER_NAMES = ("Sam Okafor", "Rachel Byrne", "Tariq Hussain", "Helen Price", "Marta Nowak")

MARKERS: dict[str, str] = {
    "interview": "management oversight was visible on the file",
    "observation": "the chair summarised the risks clearly",
    "case_record": "Zoë said she felt listened to 😊",
    "performance_csv": "re_referrals_pct",
    "docx": "Audit findings were shared with the team manager",
    "pdf": "The local authority judges its early help offer",
}

EXPECTED: dict[str, dict[str, object]] = {
    "observation": {
        "title": "Strategy meeting observation",
        "kind": "observation",
        "tier": "direct",
        "annex_a": 5,
        "collected_at": datetime(2024, 3, 5, 10, 30, tzinfo=UTC),
        "metadata": {"observer": "Inspector B", "meeting": "strategy discussion"},
    },
    "case_record": {"kind": "case-record", "tier": "direct", "annex_a": 7},
    "docx": {"title": "Practice audit summary"},
    "pdf": {"title": "Self-evaluation summary", "page_count": 2},
}


def write_corpus(directory: Path) -> dict[str, Path]:
    """Write the corpus into ``directory`` (created if missing) and return ``{key: path}``."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    case = f"C-{rng.randrange(10_000, 99_999)}"
    child = rng.choice(FIRST_NAMES)
    worker = rng.choice(WORKER_NAMES)
    files = {
        "interview": ("interview-social-worker.txt", _interview(case, child, worker).encode()),
        "observation": ("observation-strategy-meeting.md", _observation(case, rng).encode()),
        "case_record": ("case-record.txt", _case_record(case, worker).encode()),
        "performance_csv": ("performance-data.csv", _performance_csv(rng).encode()),
        "docx": ("practice-audit.docx", _docx(rng)),
        "pdf": ("self-evaluation.pdf", _pdf()),
    }
    paths = {}
    for key, (name, content) in files.items():
        path = directory / name
        path.write_bytes(content)
        paths[key] = path
    return paths


def _interview(case: str, child: str, worker: str) -> str:
    return (
        f"Interview with allocated social worker ({worker}), case {case}\n"
        "\n"
        f"The worker has known {child} for eight months and visits every two weeks, more often when\n"
        "concerns rise. She described the most recent child protection plan and how the core group\n"
        "tracks actions. Supervision happens monthly; management oversight was visible on the file\n"
        "and the worker could describe how her manager challenged drift in the plan.\n"
        "\n"
        "Caseload: 19 children. The worker said this is manageable but that court work peaks make it\n"
        "hard to keep visits purposeful. Direct work tools are used; the child's wishes are recorded.\n"
    )


def _observation(case: str, rng: random.Random) -> str:
    attendees = rng.sample(WORKER_NAMES, 3)
    return (
        "---\n"
        "title: Strategy meeting observation\n"
        "kind: observation\n"
        f"case: {case}\n"
        "collected_at: 2024-03-05T10:30:00+00:00\n"
        "annex_a: 5\n"
        "tier: direct\n"
        "observer: Inspector B\n"
        "meeting: \"strategy discussion\"\n"
        "---\n"
        "# Strategy discussion\n"
        "\n"
        f"Attendees: {', '.join(attendees)}, police, school nurse.\n"
        "\n"
        "- Information was shared promptly by all agencies.\n"
        "- the chair summarised the risks clearly and agreed a section 47 enquiry.\n"
        "- The child's views were not yet known; a visit was planned for the same day.\n"
    )


def _case_record(case: str, worker: str) -> str:
    lines = [
        "---",
        "kind: case-record",
        f"case: {case}",
        "collected_at: 2024-03-06",
        "annex_a: 7",
        "tier: direct",
        "---",
        f"Case record extract — {case}",
        "",
        f"12/01/2024  Home visit by {worker}. Zoë and her brother José seen alone in their bedroom.",
        "12/01/2024  Zoë said she felt listened to 😊 and wants to stay at her school in Coventry.",
        "19/01/2024  Core group: café meeting with mum; naïve plan revised, actions now SMART.",
        "02/02/2024  Manager's note: visits within timescale; reflective supervision recorded.",
        "",
    ]
    return "\r\n".join(lines)


def _performance_csv(rng: random.Random) -> str:
    rows = ["month,contacts,referrals,re_referrals_pct,assessments_45_days_pct,cp_plans,children_in_care"]
    for month in range(1, 13):
        rows.append(
            f"2023-{month:02d},{rng.randrange(900, 1400)},{rng.randrange(180, 320)},"
            f"{rng.randrange(120, 260) / 10:.1f},{rng.randrange(700, 980) / 10:.1f},"
            f"{rng.randrange(240, 330)},{rng.randrange(380, 460)}"
        )
    return "\n".join(rows) + "\n"


def _docx(rng: random.Random) -> bytes:
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = "Practice audit summary"
    properties.author = "Synthetic inspector"
    properties.last_modified_by = "Synthetic inspector"
    properties.created = properties.modified = properties.last_printed = FIXED_TIME.replace(tzinfo=None)
    properties.revision = 1
    document.add_heading("Practice audit summary", level=1)
    document.add_paragraph(
        "Twelve case files were audited jointly with the authority's quality assurance team."
    )
    table = document.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Case", "Grade", "Comment"), strict=True):
        cell.text = text
    for _ in range(4):
        row = table.add_row().cells
        row[0].text = f"C-{rng.randrange(10_000, 99_999)}"
        row[1].text = rng.choice(("good", "requires improvement", "inadequate"))
        row[2].text = rng.choice(("plan is specific", "drift in actions", "voice of the child strong"))
    document.add_paragraph("Audit findings were shared with the team manager on 7 March 2024.")
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Re-pack a zip with fixed timestamps so its bytes are the same on every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info))
    return out.getvalue()


PDF_PAGES: tuple[tuple[str, ...], ...] = (
    (
        "Self-evaluation summary",
        "The local authority judges its early help offer to be good.",
        "Contacts fell by 8% over the year while re-referrals stayed below 20%.",
        "Leaders know where practice is strongest and where it is weakest.",
    ),
    (
        "Priorities for the coming year",
        "Reduce drift in child protection plans longer than 18 months.",
        "Improve the timeliness of return home interviews for children who go missing.",
        "Strengthen management oversight in the assessment teams.",
    ),
)


def pdf_document(
    pages: tuple[tuple[str, ...], ...] = PDF_PAGES,
    *,
    title: str = "Self-evaluation summary",
    deflate: bool = False,
) -> bytes:
    """A minimal valid PDF with one Helvetica text line per string, one page per tuple.

    pypdf cannot write text, so the objects are written by hand; text is WinAnsi (cp1252) only.
    ``deflate`` compresses the page contents (FlateDecode), as most real PDFs do.
    """
    objects: list[bytes] = []
    page_ids = [4 + 2 * index for index in range(len(pages))]
    font_id = 4 + 2 * len(pages)
    info_id = font_id + 1
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /ProcSet [/PDF /Text] >>")  # object 3: unused resources, keeps numbering simple
    for page_id, lines in zip(page_ids, pages, strict=True):
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {page_id + 1} 0 R >>"
            ).encode()
        )
        content = b"BT /F1 12 Tf 16 TL 72 770 Td " + b" T* ".join(
            b"(" + _pdf_string(line) + b") Tj" for line in lines
        ) + b" ET"
        flate = b""
        if deflate:
            content, flate = zlib.compress(content, 9), b" /Filter /FlateDecode"
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(content), flate) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Title (" + _pdf_string(title) + b") /Producer (evidence-ledger tests) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info_id)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("cp1252")


def _pdf() -> bytes:
    return pdf_document()
