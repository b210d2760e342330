"""Anchoring on first impressions: a grade (or hypothesis) that stood still while the evidence turned against it.

For every judgment with a grade and every hypothesis not rejected, the evidence pool is the current codings of
the judgment's area, or under the hypothesis's codes. The check reports the share of that pool gathered after the
grade or hypothesis was first put forward, and raises a warning when, since the grade was last set or
reconsidered (any step: revised, accepted, panel, moderation, finalised), the new directional evidence runs
mostly against it: more contrary codings than consistent ones, at least one. "Mostly" is a simple majority: the
point at which the grade no longer describes most of what has come in since.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.bias.common import finding, opposite

if TYPE_CHECKING:
    from ledger.contracts import BiasFinding
    from projections.bias_view import BiasView, CodingItem, Step

#: Steps that do not reconsider the grade.
NOT_RECONSIDERING = frozenset({"published", "rejected"})


class Anchoring:
    name = "anchoring"
    bias = "first impressions / anchoring"
    description = "Grades and hypotheses never reconsidered after most new evidence ran against them."

    def run(self, evidence: BiasView) -> list[BiasFinding]:
        view = evidence
        out = []
        for j in view.judgments:
            pool = [c for c in view.codings if c.area == j.area]
            out += self._weigh(f"The {j.area} grade ({j.grade})", j.area, j.steps, pool, j.grade)
        index = view.coding_index()
        for h in view.hypotheses:
            if h.status == "rejected":
                continue
            label = f"Hypothesis {h.id[:8]} ({h.provisional_grade or 'expects ' + h.expects})"
            out += self._weigh(label, h.area, h.steps, [index[c] for c in h.under], h.provisional_grade)
        return out

    def _weigh(self, label: str, area: str, steps: list[Step], pool: list[CodingItem],
               grade: str | None) -> list[BiasFinding]:
        if not steps or steps[-1].direction is None:
            return []
        direction = steps[-1].direction
        first = steps[0].position
        last = max(s.position for s in steps if s.kind not in NOT_RECONSIDERING)
        since = [c for c in pool if c.position > last]
        contrary = [c for c in since if c.valence == opposite(direction)]
        consistent = [c for c in since if c.valence == direction]
        if not contrary or len(contrary) <= len(consistent):
            return []
        after_first = sum(c.position > first for c in pool)
        share = round(after_first / len(pool), 3) if pool else 0.0
        return [finding(
            self.name, "warning", f"{label} was not reconsidered after contrary evidence",
            f"Since it was last set (position {last}), {len(contrary)} coding(s) ran against it and only "
            f"{len(consistent)} for it; {share:.0%} of its evidence was gathered after it was first put forward "
            f"(position {first}).",
            "Weigh the new evidence: revise the grade or hypothesis, or record why it stands (revise, check and "
            "accept, or revise the judgment citing the evidence).",
            [*(s.position for s in steps), *(c.position for c in contrary)],
            area=area, grade=grade, direction=direction, first_position=first, first_at=steps[0].at,
            last_reconsidered=last, last_reconsidered_at=next(s.at for s in steps if s.position == last),
            contrary_since=len(contrary), consistent_since=len(consistent), share_after_first=share,
            contrary=[c.id for c in contrary],
        )]
