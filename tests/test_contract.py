"""The backend contract (``ledger.testing.backends.LedgerContract``) on SQLite and on PostgreSQL."""

from __future__ import annotations

from ledger.testing.backends import LedgerContract


class TestBuiltInBackends(LedgerContract):
    """Runs every contract test once per backend (the ``url`` and ``ledger`` fixtures come from conftest)."""
