"""Read models rebuilt from the event log (SQLAlchemy Core), caught up on demand when a read command runs."""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ledger.application import Ledger
    from projections.base import Projection

#: "module:Class" of every projection, in the order they are applied.
PROJECTIONS: tuple[str, ...] = (
    "projections.inspections:Inspections",
    "projections.sources:Sources",
    "projections.codings:Codings",
    "projections.memos:Memos",
    "projections.hypotheses:Hypotheses",
    "projections.judgments:Judgments",
    "projections.rounds:Rounds",
    "projections.annex_a:AnnexA",
)


def all_projections() -> list[Projection]:
    out = []
    for spec in PROJECTIONS:
        module, _, name = spec.partition(":")
        if importlib.util.find_spec(module) is None:  # not written yet in this installation
            continue
        out.append(getattr(importlib.import_module(module), name)())
    return out


def ready(ledger: Ledger) -> Engine:
    """The projections' engine, with every projection caught up to the end of the log."""
    from ledger.application import storage_errors
    from projections.base import catch_up
    from projections.engine import engine_for

    with storage_errors(ledger.database):
        engine = engine_for(ledger.url)
        catch_up(ledger, engine, all_projections())
    return engine
