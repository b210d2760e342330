"""``evidence memo``: analysts' notes on the inspection, a source, a coding, a code, a hypothesis or a judgment.

A memo's target is resolved when it is written (a short id becomes the full id, a code label its code id), so a
memo always points at exactly one thing. Amending keeps every earlier text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from cli.retrieval import WITHHELD
from cli.session import json_option, out_json, session
from cli.source import read_text
from ledger.errors import BadInput

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.inspection import Inspection
    from ledger.memo import Memo

TARGETS = ("inspection", "source", "coding", "code", "hypothesis", "judgment")
#: Kind of target -> the module whose ``load(ledger, prefix, inspection)`` finds one by its short id.
LOADERS = {"source": "ledger.source", "coding": "ledger.coding", "hypothesis": "ledger.hypothesis",
           "judgment": "ledger.judgment"}


@click.group()
def memo() -> None:
    """Write, amend, list and show memos."""


def resolve_target(ledger: Ledger, inspection: Inspection, kind: str, ref: str | None) -> str:
    """The stored target of a memo: a full id (hex) or, for a code, its code id."""
    assert inspection.id is not None
    if kind == "inspection":
        if ref not in (None, inspection.reference, inspection.id.hex):
            raise BadInput(
                f"Memos are written in the current inspection ({inspection.reference}), not {ref!r}; "
                f"choose it with -i {ref}."
            )
        return inspection.id.hex
    if ref is None:
        raise BadInput(f"Say which {kind} the memo is on: --on {kind} ID TEXT.")
    if kind == "code":
        from ledger.codebook import load as load_codebook

        return load_codebook(ledger, inspection).resolve(ref)
    if kind == "judgment":
        from ledger import judgment

        if re.fullmatch(r"[0-9a-fA-F-]{4,}", ref):  # a judgment's id, as 'judge list' prints it
            return ledger.resolve(ref, [judgment.Proposed.TOPIC], "judgment").hex
        return judgment.load(ledger, inspection, ref).id.hex  # an area: its judgment
    import importlib
    import importlib.util

    from ledger.errors import NotFound

    if importlib.util.find_spec(LOADERS[kind]) is None:
        raise NotFound(f"This installation cannot record {kind}s, so no memo can be on one.")
    found = importlib.import_module(LOADERS[kind]).load(ledger, ref, inspection)
    return found.id.hex


@memo.command("add")
@click.option("--on", "kind", type=click.Choice(TARGETS), default="inspection", show_default=True,
              help="What the memo is about; all but the inspection need an ID before the text.")
@click.argument("args", nargs=-1, required=True, metavar="[ID] TEXT")
@json_option
def add(kind: str, args: tuple[str, ...], as_json: bool) -> None:
    """Write a memo: TEXT (or '-' to read standard input) on the target named by --on and ID."""
    from ledger.inspection import load
    from ledger.memo import write

    if len(args) > 2 or (len(args) == 1 and kind != "inspection"):
        usage = "--on inspection TEXT" if kind == "inspection" else f"--on {kind} ID TEXT"
        raise BadInput(f"Give the memo as {usage} (quote a text of several words).")
    ref, text = (args[0] if len(args) == 2 else None), read_text(args[-1])
    s = session()

    def attempt() -> tuple[str, Any]:
        inspection = load(s.ledger, s.inspection)
        target = resolve_target(s.ledger, inspection, kind, ref)
        return target, write(s.ledger, s.actor, inspection, kind, target, text)

    target, memo_id = s.attempt(attempt)
    if as_json:
        out_json({"id": memo_id.hex, "target_kind": kind, "target": target})
        return
    click.echo(f"{memo_id.hex[:8]}  memo on {kind} {_shown(kind, target, s.inspection)}")


@memo.command("amend")
@click.argument("memo_ref", metavar="MEMO")
@click.argument("text")
def amend(memo_ref: str, text: str) -> None:
    """Replace the text of your memo MEMO with TEXT ('-' reads standard input); the old text is kept."""
    from ledger.inspection import load
    from ledger.memo import amend as amend_memo
    from ledger.memo import load as load_memo

    body = read_text(text)
    s = session()

    def attempt() -> str:
        inspection = load(s.ledger, s.inspection)
        state = load_memo(s.ledger, memo_ref, inspection)
        amend_memo(s.ledger, s.actor, inspection, state, body)
        assert state.id is not None
        return state.id.hex

    memo_id = s.attempt(attempt)
    click.echo(f"Amended memo {memo_id[:8]}.")


@memo.command("list")
@click.option("--on", "kind", type=click.Choice(TARGETS), help="Only memos on this kind of target.")
@click.argument("target_ref", required=False, metavar="[ID]")
@json_option
def list_(kind: str | None, target_ref: str | None, as_json: bool) -> None:
    """List the current inspection's memos, or only those on --on KIND (and ID)."""
    from ledger.inspection import load
    from projections import ready
    from projections.evidence import memos

    if target_ref is not None and kind is None:
        raise BadInput(f"Say what {target_ref!r} is with --on KIND, e.g. --on source {target_ref}.")
    s = session()
    inspection = load(s.ledger, s.inspection)
    target = resolve_target(s.ledger, inspection, kind, target_ref) if target_ref or kind == "inspection" else None
    engine = ready(s.ledger)
    with engine.connect() as conn:
        found = memos(conn, inspection.id, target_kind=kind, target=target)
    rows = _visible(engine, inspection, found)
    if as_json:
        out_json(rows)
        return
    if not rows:
        click.echo("No memos yet; write one with 'evidence memo add --on KIND ID TEXT'.")
    if len(rows) < len(found):
        click.echo(WITHHELD.format(n=len(found) - len(rows), what="memo(s) on codings"))
    for row in rows:
        shown = _shown(row["target_kind"], row["target"], inspection.reference)
        first = row["text"].splitlines()[0] if row["text"] else ""
        click.echo(f"{row['id'][:8]}  {row['target_kind']:<10} {shown:<12} {row['author']:<12} {first}")


def _visible(engine: Any, inspection: Inspection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The memo rows left when memos on codings an open blind round hides from the person acting are taken out."""
    from cli.retrieval import hidden_codings

    if not any(row["target_kind"] == "coding" for row in rows):
        return rows
    hidden = hidden_codings(engine, inspection)
    return [row for row in rows if not (row["target_kind"] == "coding" and row["target"] in hidden)]


def _shown(kind: str, target: str, reference: str) -> str:
    """A target as people type it: a code id, the inspection's reference, or a short id."""
    return target if kind == "code" else reference if kind == "inspection" else target[:8]


def _history(state: Memo) -> list[str]:
    return [*state.history, state.text]


@memo.command("show")
@click.argument("memo_ref", metavar="MEMO")
@json_option
def show(memo_ref: str, as_json: bool) -> None:
    """Show memo MEMO: its target, author, current text and every earlier text."""
    from ledger.inspection import load
    from ledger.memo import load as load_memo

    s = session()
    inspection = load(s.ledger, s.inspection)
    state = load_memo(s.ledger, memo_ref, inspection)
    assert state.id is not None
    if state.target_kind == "coding":
        from cli.retrieval import hidden_codings
        from ledger.errors import NotFound
        from projections import ready

        if state.target in hidden_codings(ready(s.ledger), inspection):
            raise NotFound(
                f"Memo {memo_ref} is on a coding withheld from you while a blind coding round is open; "
                "read it once the round is closed."
            )
    data = {
        "id": state.id.hex, "target_kind": state.target_kind, "target": state.target, "author": state.author,
        "text": state.text, "written_at": state.created_on.isoformat() if state.created_on else None,
        "amended_at": state.modified_on.isoformat() if state.version > 1 and state.modified_on else None,
        "versions": _history(state),
    }
    if as_json:
        out_json(data)
        return
    shown = _shown(state.target_kind, state.target, s.inspection)
    click.echo(f"{data['id'][:8]}  memo on {data['target_kind']} {shown}  by {data['author']}")
    click.echo(data["text"])
    if len(data["versions"]) > 1:
        click.echo("")
        click.echo("Earlier texts, oldest first:")
        for number, text in enumerate(data["versions"][:-1], 1):
            click.echo(f"  {number}. {text}")
