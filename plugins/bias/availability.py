"""Availability and vividness: findings resting on one case, and cited evidence skewed to the last days.

**One case.** A grade describes services to children in general, so a finding whose supporting evidence all
comes from one child's case (or, for evidence about no case, from one source) is flagged, however much of it
there is.

**Recency.** The cited evidence (everything supporting any finding) is compared with the whole evidence base:
if no recency bias were at work, a cited coding would come from the last days of fieldwork as often as codings
in general do. The last days are the final quarter of fieldwork (a SIF ran four weeks: its last week), at least
one day; fieldwork runs from the inspection's start to its end date, or else over the days evidence was
gathered, and needs four days or more. The excess is tested with an exact one-sided binomial test and flagged
at the conventional 5% level. When one area is reviewed, its own codings are the comparison.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING

from plugins.bias.common import binomial_tail, finding

if TYPE_CHECKING:
    from ledger.contracts import BiasFinding
    from projections.bias_view import BiasView

#: Significance level of the recency test.
ALPHA = 0.05
#: Fieldwork days needed before "the last days" mean anything.
MIN_FIELDWORK_DAYS = 4
#: The share of fieldwork that counts as its last days.
LAST_SHARE = 0.25


def fieldwork_days(view: BiasView) -> list[str]:
    """Every calendar day of fieldwork: the inspection's dates where recorded, else the days evidence spans."""
    gathered = sorted({c.gathered_day for c in view.codings})
    start = view.fieldwork_start or (gathered[0] if gathered else None)
    end = view.fieldwork_end or (gathered[-1] if gathered else None)
    if start is None or end is None or end < start:
        return []
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


class Availability:
    name = "availability"
    bias = "availability / vividness"
    description = "Findings resting on one case or source; cited evidence skewed to the last days of fieldwork."

    def run(self, evidence: BiasView) -> list[BiasFinding]:
        return self._one_case(evidence) + self._recency(evidence)

    def _one_case(self, view: BiasView) -> list[BiasFinding]:
        index = view.coding_index()
        out = []
        for f in view.findings:
            if not f.support:
                continue
            units = {index[c].case or f"source {index[c].source[:8]}" for c in f.support}
            if len(units) != 1:
                continue
            (unit,) = units
            what = f"case {unit}" if not unit.startswith("source ") else unit
            out.append(finding(
                self.name, "warning", f"The {f.label} rests on one {what.split()[0]}",
                f"All {len(f.support)} coding(s) supporting it come from {what}; one vivid case can stand in for "
                "the service as a whole.",
                "Test it against other tracked cases (see 'evidence hypothesis check'), or narrow the finding.",
                [*f.positions, *(index[c].position for c in f.support)],
                area=f.area, finding=f.id, unit=unit, support=len(f.support),
            ))
        return out

    def _recency(self, view: BiasView) -> list[BiasFinding]:
        days = fieldwork_days(view)
        if len(days) < MIN_FIELDWORK_DAYS:
            return []
        last_days = days[-max(1, math.ceil(len(days) * LAST_SHARE)):]
        index = view.coding_index()
        cited = sorted({c for f in view.findings for c in f.support}, key=lambda c: index[c].position)
        late = [c for c in cited if index[c].gathered_day >= last_days[0]]
        pool = [c for c in view.codings if view.area is None or c.area == view.area]
        base = sum(c.gathered_day >= last_days[0] for c in pool) / len(pool) if pool else 0.0
        if not cited or base >= 1.0 or len(late) / len(cited) <= base:
            return []
        p_value = binomial_tail(len(late), len(cited), base)
        if p_value >= ALPHA:
            return []
        return [finding(
            self.name, "warning", "Cited evidence leans on the last days of fieldwork",
            f"{len(late)} of {len(cited)} cited codings were gathered from {last_days[0]} on (the last "
            f"{len(last_days)} of {len(days)} fieldwork days), against {base:.0%} of all codings; so large a "
            f"share would arise by chance with probability {p_value:.3f}.",
            "Look again at evidence from the first weeks before settling the findings, and cite it where it bears.",
            (index[c].position for c in late),
            last_days_from=last_days[0], fieldwork_days=len(days), cited=len(cited), cited_late=len(late),
            share_cited_late=round(len(late) / len(cited), 3), share_all_late=round(base, 3),
            p_value=round(p_value, 6),
        )]
