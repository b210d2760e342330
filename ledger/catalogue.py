"""Every built-in event module, imported so that each stable topic can be decoded (and documented)."""

from __future__ import annotations

import importlib
import importlib.util

#: Modules that declare events, in the order the event catalogue lists them.
EVENT_MODULES: tuple[str, ...] = (
    "ledger.inspection",
    "ledger.source",
    "ledger.codebook",
    "ledger.coding",
    "ledger.memo",
    "ledger.hypothesis",
    "ledger.judgment",
    "ledger.panel",
    "ledger.feedback",
    "ledger.rounds",
    "ledger.calibration",
    "ledger.annex_a",
    "ledger.bias_review",
)

for _module in EVENT_MODULES:
    if importlib.util.find_spec(_module) is not None:  # a module not written yet declares nothing
        importlib.import_module(_module)
