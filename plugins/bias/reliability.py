"""Uneven reliability: findings that would not stand without their weakest or single-source evidence.

A finding *holds* on a body of evidence when it has supporting codings and they are at least as many as the
contrary ones. For every finding that holds, two sensitivity tests remove evidence from both sides and ask
whether it still holds:

- **weakest tier**: drop every coding from sources in the weakest reliability tier (by default ``authority``:
  performance data and self-assessment; tiers are configurable per inspection with ``evidence bias tiers``);
- **single source**: drop, in turn, all the evidence of each one source; the finding must survive every such
  removal (leave-one-source-out), so that no single document carries it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.bias.common import finding

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.contracts import BiasFinding
    from projections.bias_view import BiasView, CodingItem, Finding


def holds(support: list[str], contrary: list[str]) -> bool:
    """Whether a finding stands on this evidence: some support, and no less of it than contrary evidence."""
    return bool(support) and len(support) >= len(contrary)


class UnevenReliability:
    name = "uneven-reliability"
    bias = "uneven reliability"
    description = "Findings that fall without the weakest tier of evidence, or without any one source."

    def run(self, evidence: BiasView) -> list[BiasFinding]:
        index = evidence.coding_index()
        weakest = evidence.tier_order[-1]
        out = []
        for f in evidence.findings:
            if not holds(f.support, f.contrary):
                continue
            weak = [c for c in f.support if index[c].tier == weakest]
            if weak and not self._survives(f, index, lambda c: c.tier != weakest):
                out.append(finding(
                    self.name, "warning", f"The {f.label} does not survive without {weakest}-tier evidence",
                    f"{len(weak)} of its {len(f.support)} supporting coding(s) come from {weakest}-tier sources; "
                    "without them it no longer outweighs the evidence against it.",
                    "Corroborate it with direct evidence (case records, observation, children's and families' "
                    "views), or soften the finding.",
                    [*f.positions, *(index[c].position for c in weak)],
                    area=f.area, finding=f.id, weakest_tier=weakest, weak_support=len(weak), support=len(f.support),
                ))
            for source in sorted({index[c].source for c in f.support}, key=lambda s: min(
                    index[c].position for c in f.support if index[c].source == s)):
                if not self._survives(f, index, lambda c, s=source: c.source != s):
                    carried = [c for c in f.support if index[c].source == source]
                    out.append(finding(
                        self.name, "warning", f"The {f.label} hinges on one source",
                        f"Without the {len(carried)} coding(s) from source {source[:8]} it no longer stands; a "
                        "single document or account carries it.",
                        "Look for corroboration in other sources before relying on it.",
                        [*f.positions, *(index[c].position for c in carried)],
                        area=f.area, finding=f.id, source=source, carried=len(carried),
                    ))
                    break
        return out

    @staticmethod
    def _survives(f: Finding, index: dict[str, CodingItem], keep: Callable[[CodingItem], bool]) -> bool:
        return holds([c for c in f.support if keep(index[c])], [c for c in f.contrary if keep(index[c])])
