"""The deficit model: weaknesses sought and reported, strengths not.

Per judgment area reviewed: a warning when weaknesses were coded but no strength at all (good practice not
explored), and a warning when strengths were coded but the area's findings (judgments' cited evidence,
hypotheses' linked evidence) carry weaknesses and not one strength (good practice found but not reported).
No proportion is demanded: even an inadequate service has practice worth naming, and the point is only that
the search and the report look both ways.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.bias.common import finding

if TYPE_CHECKING:
    from ledger.contracts import BiasFinding
    from projections.bias_view import BiasView


class DeficitModel:
    name = "deficit-model"
    bias = "deficit model"
    description = "Areas where only weaknesses were coded, or only weaknesses reported."

    def run(self, evidence: BiasView) -> list[BiasFinding]:
        index = evidence.coding_index()
        out = []
        for area in evidence.areas:
            coded = [c for c in evidence.codings if c.area == area]
            strengths = [c for c in coded if c.valence == "strength"]
            weaknesses = [c for c in coded if c.valence == "weakness"]
            if weaknesses and not strengths:
                out.append(finding(
                    self.name, "warning", f"No strengths coded in {area}",
                    f"{len(weaknesses)} weakness(es) and no strength were coded in {area}; good practice may not "
                    "have been looked for.",
                    "Look for what works in this area (ask workers and children what helps) and code it.",
                    (c.position for c in weaknesses), area=area, weaknesses=len(weaknesses), strengths=0,
                ))
                continue
            findings = [f for f in evidence.findings if f.area == area]
            reported = {c for f in findings for c in (*f.support, *f.contrary, *f.neutral)}
            said = {index[c].valence for c in reported}
            if strengths and "weakness" in said and "strength" not in said:
                out.append(finding(
                    self.name, "warning", f"Strengths found in {area} but not reported",
                    f"{len(strengths)} strength(s) were coded in {area}, yet its findings cite only weaknesses.",
                    "Cite the strongest examples of good practice alongside the weaknesses (see 'evidence "
                    "vignettes').",
                    [*(p for f in findings for p in f.positions), *(c.position for c in strengths)],
                    area=area, strengths=len(strengths), reported=len(reported),
                ))
        return out
