"""Built-in bias checks, one per bias the SIF evaluation names (DOMAIN.md, "Bias checks"); see docs/bias.md.

Each check reads the plain-data view ``projections.bias_view.BiasView`` and returns ``BiasFinding``s citing the
ledger positions behind them; a balanced ledger gives none. ``run_checks`` runs every registered check,
built-in and third-party, in registration order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.contracts import BiasFinding
from ledger.hookspecs import hookimpl
from ledger.pluginmanager import PluginError
from plugins.lazy import lazy_exports

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ledger.contracts import BiasCheck

__all__ = [
    "BUILTIN_CHECKS",
    "Anchoring",
    "Availability",
    "Confirmation",
    "DataOverload",
    "DeficitModel",
    "ImpactBlindness",
    "UnevenReliability",
    "register_bias_checks",
    "run_checks",
]

__getattr__ = lazy_exports(__name__, {
    "BUILTIN_CHECKS": "plugins.bias.checks",
    "Anchoring": "plugins.bias.anchoring",
    "Availability": "plugins.bias.availability",
    "Confirmation": "plugins.bias.confirmation",
    "DeficitModel": "plugins.bias.deficit",
    "ImpactBlindness": "plugins.bias.impact",
    "DataOverload": "plugins.bias.overload",
    "UnevenReliability": "plugins.bias.reliability",
})


@hookimpl
def register_bias_checks(register: Callable[[BiasCheck], None]) -> None:
    """Register the built-in bias checks."""
    from plugins.bias.checks import BUILTIN_CHECKS

    for check in BUILTIN_CHECKS:
        register(check)


def run_checks(view: Any, checks: Iterable[BiasCheck] | None = None) -> list[BiasFinding]:
    """Every finding of ``checks`` (all registered ones when None) over ``view``, check by check.

    A check that raises, or returns something other than ``BiasFinding``s, is a ``PluginError`` naming it.
    """
    if checks is None:
        from ledger.pluginmanager import registered

        checks = registered("register_bias_checks")
    out: list[BiasFinding] = []
    for check in checks:
        try:
            found = list(check.run(view))
        except Exception as error:
            raise PluginError(f"Bias check {check.name!r} failed ({type(error).__name__}: {error}); fix or "
                              "disable the plugin that registers it.") from error
        wrong = [f for f in found if not isinstance(f, BiasFinding)]
        if wrong:
            raise PluginError(f"Bias check {check.name!r} returned {type(wrong[0]).__name__}, not BiasFinding; "
                              "return ledger.contracts.BiasFinding values.")
        out.extend(found)
    return out
