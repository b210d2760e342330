"""The whole plugin contract: every hook Evidence Ledger calls, typed and documented.

A plugin is a module or object with functions marked ``@hookimpl`` whose names are hook names below.
Built-in plugins (``plugins/``) are registered first, third-party plugins (entry-point group
``evidence_ledger``) after them, so a third party can override a built-in by registering the same name
with ``replace=True``. docs/hooks.md is generated from this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

    import click

    from ledger.contracts import BiasCheck, Codebook, Framework, Importer, LanguageRule, ReportWriter

PROJECT_NAME = "evidence_ledger"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_frameworks(register: Callable[[Framework], None]) -> None:
    """Register inspection frameworks: judgment areas, grade scale, hard rules and observed norms.

    Call ``register(framework)`` once for each; ``framework`` satisfies ``ledger.contracts.Framework``.
    """


@hookspec
def register_codebooks(register: Callable[[Codebook], None]) -> None:
    """Register codebooks (trees of pre-specified codes) as ``ledger.contracts.Codebook`` values."""


@hookspec
def register_importers(register: Callable[[Importer], None]) -> None:
    """Register readers that turn files into sources (``ledger.contracts.Importer``)."""


@hookspec(firstresult=True)
def guess_importer(filename: str, head: bytes) -> str | None:
    """Name the importer for a file from its name and first bytes, or return None to pass.

    The first non-None answer wins; ``--format`` on the command line overrides the guess.
    """


@hookspec
def register_report_writers(register: Callable[[ReportWriter], None]) -> None:
    """Register writers of reports and exports (``ledger.contracts.ReportWriter``)."""


@hookspec
def register_bias_checks(register: Callable[[BiasCheck], None]) -> None:
    """Register checks for analyst bias (``ledger.contracts.BiasCheck``)."""


@hookspec
def register_language_rules(register: Callable[[LanguageRule], None]) -> None:
    """Register report-language rules (``ledger.contracts.LanguageRule``)."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``evidence`` command line (``cli.add_command(...)``)."""
