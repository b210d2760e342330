"""The Calibration aggregate: one per inspection, a set of vignettes that each member grades, round after round.

Grading the same short case descriptions independently shows whether inspectors apply the grade scale alike
(``ledger.agreement.calibration_report`` measures it). A vignette graded again in a later round, after the team
discussed it, is a new judgment. Vignettes come from a file; see :func:`read_vignettes` for the formats.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from ledger.aggregate import Aggregate, applies
from ledger.application import natural_id
from ledger.contracts import GRADES, NOT_JUDGED
from ledger.errors import AlreadyExists, BadInput, NotFound
from ledger.events import Event

from uuid import UUID  # noqa: TC003 - msgspec reads event annotations at run time

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.inspection import Inspection

VIGNETTE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Limits that keep a vignettes file a file of vignettes.
MAX_FILE_BYTES = 10_000_000
MAX_VIGNETTES = 1000
FIELDS = ("id", "title", "text")
#: Ofsted's data files code grades 1-4 (5 = not judged); people type either form.
GRADE_CODES = {str(i): grade for i, grade in enumerate(GRADES, 1)}


class Vignette(msgspec.Struct, frozen=True, kw_only=True):
    """A short case description to grade: a stable id people type, a title, and the text."""

    id: str
    title: str
    text: str


class Created(Event, frozen=True, kw_only=True):
    """The inspection's calibration exercise was set up with these vignettes."""

    TOPIC = "Calibration.Created"
    inspection: UUID
    vignettes: tuple[Vignette, ...]


class Rated(Event, frozen=True, kw_only=True):
    """A member (the event's actor) graded a vignette in a calibration round."""

    TOPIC = "Calibration.Rated"
    vignette: str
    grade: str
    round: int


class Calibration(Aggregate):
    """The vignettes, and every (rater, vignette, round) -> grade given so far."""

    def __init__(self) -> None:
        super().__init__()
        self.inspection: UUID | None = None
        self.vignettes: dict[str, Vignette] = {}
        self.ratings: dict[tuple[str, str, int], str] = {}
        self.latest_round = 0

    @applies(Created)
    def _created(self, e: Created) -> None:
        self.inspection = e.inspection
        self.vignettes = {v.id: v for v in e.vignettes}

    @applies(Rated)
    def _rated(self, e: Rated) -> None:
        self.ratings[e.actor, e.vignette, e.round] = e.grade
        self.latest_round = max(self.latest_round, e.round)


def calibration_id(inspection_id: UUID) -> UUID:
    return natural_id("calibration", inspection_id.hex)


# --- reading vignettes -----------------------------------------------------------------------


def read_vignettes(path: Path) -> tuple[Vignette, ...]:
    """The vignettes in a UTF-8 file, by its extension.

    * ``.csv`` — a header naming ``id``, ``text`` and optionally ``title``; one vignette per row.
    * ``.jsonl`` / ``.ndjson`` — one JSON object per line with ``id``, ``text`` and optionally ``title``.
    * ``.md`` / ``.markdown`` — each vignette starts with a heading ``## ID: Title`` (or ``## ID``); its text
      runs to the next ``## `` heading. Anything before the first such heading is ignored.

    A missing title is the id. Ids are 1-64 letters, digits, '.', '_' or '-', unique ignoring case.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadInput(f"{path.name} is {size:,} bytes; a vignettes file may hold at most {MAX_FILE_BYTES:,}.")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{path.name} is not UTF-8 text; save it as UTF-8 and try again.") from None
    except OSError as error:
        raise BadInput(f"{path} cannot be read ({error.strerror or error}); check the path.") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(text, path.name)
    elif suffix in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(text, path.name)
    elif suffix in (".md", ".markdown"):
        rows = _markdown_rows(text)
    else:
        raise BadInput(f"{path.name}: give vignettes as a .csv, .jsonl or .md file (see docs/agreement.md).")
    return _vignettes(rows, path.name)


def _csv_rows(text: str, name: str) -> list[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [f for f in header if f not in FIELDS]
    if not header or unknown or "id" not in header or "text" not in header:
        extra = f"; {', '.join(map(repr, unknown))} is not one of them" if unknown else ""
        raise BadInput(f"{name} line 1: the header must name the columns id, title and text{extra}.")
    rows = []
    try:
        for row in reader:
            if None in row:
                raise BadInput(f"{name} line {reader.line_num}: the row has more cells than the header.")
            rows.append((reader.line_num, dict(row)))
    except csv.Error as error:
        raise BadInput(f"{name} line {reader.line_num}: not valid CSV ({error}).") from None
    return rows


def _jsonl_rows(text: str, name: str) -> list[tuple[int, dict[str, object]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = msgspec.json.decode(line)
        except msgspec.DecodeError as error:
            raise BadInput(f"{name} line {number}: not a JSON object ({error}).") from None
        if not isinstance(row, dict):
            raise BadInput(f"{name} line {number}: not a JSON object; write one object per line.")
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise BadInput(f"{name} line {number}: {unknown[0]!r} is not a field; use id, title and text.")
        rows.append((number, row))
    return rows


HEADING = re.compile(r"^## +(?P<id>[^:\s]+)[ \t]*(?::[ \t]*(?P<title>.*?))?[ \t]*$")


def _markdown_rows(text: str) -> list[tuple[int, dict[str, object]]]:
    rows: list[tuple[int, dict[str, object]]] = []
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        match = HEADING.match(line)
        if match:
            if rows:
                rows[-1][1]["text"] = "\n".join(body)
            rows.append((number, {"id": match["id"], "title": match["title"] or ""}))
            body = []
        else:
            body.append(line)
    if rows:
        rows[-1][1]["text"] = "\n".join(body)
    return rows


def _vignettes(rows: list[tuple[int, dict[str, object]]], name: str) -> tuple[Vignette, ...]:
    if not rows:
        raise BadInput(f"{name} holds no vignettes; give each an id, a title and its text (see docs/agreement.md).")
    if len(rows) > MAX_VIGNETTES:
        raise BadInput(f"{name} holds {len(rows)} vignettes; at most {MAX_VIGNETTES} can be graded in one exercise.")
    seen: dict[str, str] = {}
    out = []
    for number, row in rows:
        values = {k: row.get(k) for k in FIELDS}
        if any(v is not None and not isinstance(v, str) for v in values.values()):
            raise BadInput(f"{name} line {number}: id, title and text must be text.")
        vid = str(values["id"] or "").strip()
        if not VIGNETTE_ID.match(vid):
            raise BadInput(
                f"{name} line {number}: {vid!r} is not a vignette id; use 1-64 letters, digits, '.', '_' or '-'."
            )
        if vid.lower() in seen:
            raise BadInput(f"{name} line {number}: vignette id {vid!r} is used twice; give each vignette its own id.")
        seen[vid.lower()] = vid
        body = str(values["text"] or "").strip()
        if not body:
            raise BadInput(f"{name} line {number}: vignette {vid} has no text to grade.")
        out.append(Vignette(id=vid, title=str(values["title"] or "").strip() or vid, text=body))
    return tuple(out)


# --- commands --------------------------------------------------------------------------------


def load(ledger: Ledger, inspection: Inspection) -> Calibration:
    """The inspection's calibration exercise, or a NotFound that says how to create one."""
    assert inspection.id is not None
    try:
        return ledger.get(Calibration, calibration_id(inspection.id), what="calibration")
    except NotFound:
        raise NotFound(
            f"Inspection {inspection.reference} has no calibration exercise yet; create one with "
            "'evidence calibration create --vignettes FILE'."
        ) from None


def create(ledger: Ledger, actor: str, inspection: Inspection, vignettes: tuple[Vignette, ...]) -> Calibration:
    """Set up the inspection's calibration exercise with ``vignettes`` (once per inspection)."""
    role = inspection.require(actor, "calibration.create")
    assert inspection.id is not None
    if not vignettes:
        raise BadInput("No vignettes were given; a calibration exercise needs at least one.")
    cid = calibration_id(inspection.id)
    if ledger.exists(cid):
        raise AlreadyExists(
            f"Inspection {inspection.reference} has its calibration exercise already; rate its vignettes "
            "in a new round (--round N) instead of creating another."
        )
    event = ledger.event(Created, cid, actor, role, inspection=inspection.id, vignettes=vignettes)
    ledger.append(event)
    return Calibration.project(None, [event])  # type: ignore[return-value]


def parse_grade(value: str) -> str:
    """A grade from what a person typed: a grade name (any case, spaces or hyphens) or Ofsted's code 1-4."""
    text = re.sub(r"[\s_]+", "-", value.strip().lower())
    text = GRADE_CODES.get(text, text)
    if text == "requires-improvement-to-be-good":
        text = "requires-improvement"
    if text not in GRADES:
        extra = " (calibration grades every vignette)" if text in (NOT_JUDGED, "5") else ""
        raise BadInput(f"{value!r} is not a grade on the scale{extra}; use one of: {', '.join(GRADES)} (or 1-4).")
    return text


def rate(
    ledger: Ledger, actor: str, inspection: Inspection, vignette: str, grade: str, round_: int | None = None
) -> Rated:
    """Record ``actor``'s grade for a vignette in a round (default: the latest round, 1 at first)."""
    role = inspection.require(actor, "calibration.rate")
    state = load(ledger, inspection)
    chosen = parse_grade(grade)
    vid = find_vignette(state, vignette)
    latest = max(state.latest_round, 1)
    number = latest if round_ is None else round_
    if not 1 <= number <= state.latest_round + 1:
        raise BadInput(
            f"Round {number} cannot be rated: rounds run 1, 2, ... and the latest is {state.latest_round}, "
            f"so use --round between 1 and {state.latest_round + 1}."
        )
    earlier = state.ratings.get((actor, vid, number))
    if earlier is not None:
        raise AlreadyExists(
            f"{actor} graded vignette {vid} {earlier} in round {number} already; a grade is not changed — "
            f"grade it again in round {number + 1} (--round {number + 1}) after discussion."
        )
    event = ledger.event(Rated, state, actor, role, vignette=vid, grade=chosen, round=number)
    ledger.append(event)
    return event


def find_vignette(state: Calibration, ref: str) -> str:
    """The id of the vignette named ``ref`` (exactly, or ignoring case), or a NotFound listing them."""
    wanted = ref.strip()
    if wanted in state.vignettes:
        return wanted
    matches = [vid for vid in state.vignettes if vid.lower() == wanted.lower()]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(list(state.vignettes)[:10]) + (", ..." if len(state.vignettes) > 10 else "")
    raise NotFound(f"No vignette {ref!r} in this calibration exercise; its vignettes are: {known}.")
