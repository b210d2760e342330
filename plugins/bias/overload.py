"""Data overload: evidence gathered faster than it is analysed.

Two measures. **Backlog**: each inspector's current sources still uncoded that were registered on an earlier
day than the view's latest event. A backlog of at least one typical day's intake (the inspector's median number
of sources registered per day they registered any) means the next day starts behind and coding will lean on
memory; twice that is a warning. **Coding surges**: an inspector-day whose codings lie above Tukey's upper fence
over every inspector-day of the team *and* exceed twice the team's median, the mark of catching up in bulk (the
evaluation found inspectors processing evidence late at night). The doubling guard keeps a steady team, whose
spread is near zero, from flagging ordinary variation; at least four inspector-days are needed for quartiles.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from plugins.bias.common import finding, median, poisson_tail, upper_fence

if TYPE_CHECKING:
    from ledger.contracts import BiasFinding
    from projections.bias_view import BiasView

#: Inspector-days needed before a day can be called unusual.
MIN_DAYS_FOR_SURGE = 4
#: A surge day must also be this improbable as Poisson noise around the median inspector-day.
SURGE_ALPHA = 0.01


class DataOverload:
    name = "data-overload"
    bias = "data overload"
    description = "Sources left uncoded past the day they arrived, per inspector; days of bulk coding."

    def run(self, evidence: BiasView) -> list[BiasFinding]:
        return self._backlogs(evidence) + self._surges(evidence)

    def _backlogs(self, view: BiasView) -> list[BiasFinding]:
        if not view.sources or view.as_of is None:
            return []
        today = view.as_of[:10]
        out = []
        for person in sorted({s.collector for s in view.sources}):
            mine = [s for s in view.sources if s.collector == person]
            intake = median(Counter(s.registered_day for s in mine).values())
            backlog = [s for s in mine if not s.coded and s.registered_day < today]
            if not backlog or len(backlog) < intake:
                continue
            by_day = Counter(s.registered_day for s in backlog)
            out.append(finding(
                self.name, "warning" if len(backlog) >= 2 * intake else "info",
                f"{person} has {len(backlog)} source(s) uncoded from earlier days",
                f"{len(backlog)} of the sources {person} registered before {today} are not coded yet, against a "
                f"typical intake of {intake:g} a day; evidence left uncoded tends to be remembered selectively.",
                "Code the backlog (or share it out) before gathering more, or record why a source needs no coding.",
                (s.position for s in backlog),
                inspector=person, backlog=len(backlog), median_daily_intake=intake,
                backlog_by_day=dict(sorted(by_day.items())), uncoded_today=sum(
                    not s.coded and s.registered_day == today for s in mine),
            ))
        return out

    def _surges(self, view: BiasView) -> list[BiasFinding]:
        per_day: dict[tuple[str, str], list[int]] = defaultdict(list)
        for c in view.codings:
            per_day[(c.coder, c.coded_day)].append(c.position)
        if len(per_day) < MIN_DAYS_FOR_SURGE:
            return []
        counts = [len(p) for p in per_day.values()]
        fence, typical = upper_fence(counts), median(counts)
        out = []
        for (person, day), positions in sorted(per_day.items()):
            chance = poisson_tail(len(positions), typical)
            if len(positions) > fence and chance < SURGE_ALPHA:
                out.append(finding(
                    self.name, "info", f"{person} coded {len(positions)} passages on {day}",
                    f"That is far above the team's usual day (median {typical:g}, Tukey far-out fence {fence:g}; as "
                    f"chance variation it would have probability {chance:.4f}); "
                    "bulk coding after the event leans on memory and on the most vivid material.",
                    "Re-read a sample of that day's codings against their sources, and code closer to collection.",
                    positions, inspector=person, day=day, codings=len(positions), median=typical, fence=fence,
                    chance=round(chance, 6),
                ))
        return out
