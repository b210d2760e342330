"""Every built-in event module, imported so that each stable topic can be decoded (and documented)."""

from __future__ import annotations

import importlib

#: Modules that declare events, in the order the event catalogue lists them.
EVENT_MODULES: tuple[str, ...] = ("ledger.inspection",)

for _module in EVENT_MODULES:
    importlib.import_module(_module)
