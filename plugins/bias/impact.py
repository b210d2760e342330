"""Impact blindness: findings about tasks done rather than what changed for children.

Three measures. A warning for each finding whose supporting codings all fall under ``process`` codes (a task
was done) with none under ``practice`` or ``impact``: task completion is not good practice. A warning when the
inspection holds sources but none from children or families (``child-feedback``, ``family-feedback``). And, per
area reviewed with findings, information when none of its findings' supporting evidence is about impact: no
coding under an ``impact`` code and none from a child's or family's feedback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.bias.common import finding

if TYPE_CHECKING:
    from ledger.contracts import BiasFinding
    from projections.bias_view import BiasView

FEEDBACK_KINDS = frozenset({"child-feedback", "family-feedback"})


class ImpactBlindness:
    name = "impact-blindness"
    bias = "impact blindness"
    description = "Findings resting only on process evidence; no feedback from children and families."

    def run(self, evidence: BiasView) -> list[BiasFinding]:
        index = evidence.coding_index()
        out = []
        for f in evidence.findings:
            if f.support and all(index[c].facet == "process" for c in f.support):
                out.append(finding(
                    self.name, "warning", f"The {f.label} rests only on process evidence",
                    f"All {len(f.support)} supporting coding(s) are under process codes: they show tasks done, "
                    "not how well, nor what changed for the child.",
                    "Find practice and impact evidence (case records read for outcomes, children's and families' "
                    "views) before relying on it.",
                    [*f.positions, *(index[c].position for c in f.support)],
                    area=f.area, finding=f.id, support=len(f.support),
                ))
        if evidence.sources and not any(s.kind in FEEDBACK_KINDS for s in evidence.sources):
            out.append(finding(
                self.name, "warning", "No feedback from children or families",
                f"None of the {len(evidence.sources)} current sources is a child's or a family's feedback; the "
                "experience of those the services exist for is missing.",
                "Gather children's and families' views (register them as child-feedback or family-feedback).",
                (s.position for s in evidence.sources), sources=len(evidence.sources),
            ))
        for area in evidence.areas:
            findings = [f for f in evidence.findings if f.area == area and f.support]
            support = {c for f in findings for c in f.support}
            if findings and not any(index[c].facet == "impact" or index[c].kind in FEEDBACK_KINDS for c in support):
                out.append(finding(
                    self.name, "info", f"No impact evidence behind the {area} findings",
                    f"The {len(findings)} finding(s) in {area} rest on {len(support)} coding(s), none about impact "
                    "or from children's or families' feedback.",
                    "Cite what changed for children, in their words where possible.",
                    [p for f in findings for p in f.positions], area=area, findings=len(findings),
                ))
        return out
