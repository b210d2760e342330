"""Evidence Ledger core: events, aggregates, the application, storage, integrity and the plugin contract.

This package imports none of ``cli``, ``plugins`` or ``projections``.
"""

__version__ = "0.1.0"
