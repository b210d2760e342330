"""What the built-in bias checks share: building a finding with its positions, and two small statistics."""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

from ledger.contracts import BiasFinding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable


def finding(
    check: str, severity: Severity, title: str, explanation: str, advice: str, positions: Iterable[int], *,
    area: str | None = None, **details: Any,
) -> BiasFinding:
    """A finding citing ``positions`` (sorted, each once); ``details`` must be plain JSON data."""
    return BiasFinding(
        check=check, severity=severity, title=title, explanation=explanation, advice=advice,
        positions=tuple(sorted(set(positions))), area=area, details=details,
    )


def median(values: Iterable[float]) -> float:
    """The median (0 for no values)."""
    data = list(values)
    return float(statistics.median(data)) if data else 0.0


def upper_fence(values: Iterable[float], k: float = 3.0) -> float:
    """Tukey's upper fence, Q3 + k x IQR (quartiles by the inclusive method): k=3 is his "far out" fence."""
    q1, _, q3 = statistics.quantiles(list(values), n=4, method="inclusive")
    return q3 + k * (q3 - q1)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), computed exactly."""
    if k <= 0:
        return 1.0
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean), computed exactly."""
    if k <= 0:
        return 1.0
    below = sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k))
    return max(0.0, 1.0 - below)


def short(ids: Iterable[str]) -> list[str]:
    """Ids as 'evidence' prints them (8 hex digits)."""
    return [i[:8] for i in ids]


def opposite(direction: str | None) -> str | None:
    """The valence that runs against a direction."""
    return {"strength": "weakness", "weakness": "strength"}.get(direction or "")
