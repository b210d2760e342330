"""Confirmation: hypotheses never tested against the evidence that could refute them.

For every hypothesis not rejected: a warning when no disconfirming-evidence search (``evidence hypothesis
check``) was logged after its last new link or change of direction (information only while nothing is linked
yet); and a warning for every current coding under its codes whose valence runs against it that was never linked
to it, with any stance. A search that surfaced a coding does not count as considering it: an inspector considers
contrary evidence by linking it (as contradicting, or as neutral when it does not bear), so that the weighing
is on the record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.bias.common import finding, opposite, short

if TYPE_CHECKING:
    from ledger.contracts import BiasFinding
    from projections.bias_view import BiasView


class Confirmation:
    name = "confirmation"
    bias = "confirmation"
    description = "Hypotheses without a logged check, and contrary codings under their codes never considered."

    def run(self, evidence: BiasView) -> list[BiasFinding]:
        index = evidence.coding_index()
        out = []
        for h in evidence.hypotheses:
            if h.status == "rejected":
                continue
            linked = {link.coding for link in h.links}
            steps = [s.position for s in h.steps]
            if not h.checked_since_change:
                out.append(finding(
                    self.name, "warning" if linked else "info",
                    f"Hypothesis {h.id[:8]} has no disconfirming-evidence check since it last changed",
                    f"It has {len(linked)} linked coding(s) and {len(h.checks)} logged check(s), none after its "
                    "latest link or change of direction; evidence that could refute it may not have been sought.",
                    f"Run 'evidence hypothesis check {h.id[:8]}' and weigh what it finds.",
                    [*steps, *(link.position for link in h.links)],
                    area=h.area, hypothesis=h.id, links=len(linked), checks=len(h.checks),
                ))
            against = opposite(h.expects)
            missed = [c for c in h.under if index[c].valence == against and c not in linked]
            if missed:
                surfaced = {c for check in h.checks for c in check.contrary}
                out.append(finding(
                    self.name, "warning",
                    f"Hypothesis {h.id[:8]} has {len(missed)} contrary coding(s) never considered",
                    f"{len(missed)} coding(s) under its codes show a {against}, against what it expects, and were "
                    f"never linked to it ({sum(c in surfaced for c in missed)} of them surfaced by a check).",
                    f"Link each with 'evidence hypothesis link {h.id[:8]} CODING --contradicts' (or --neutral, "
                    "saying why in a memo), then revise, accept or reject the hypothesis.",
                    [*steps, *(index[c].position for c in missed)],
                    area=h.area, hypothesis=h.id, contrary=short(missed),
                    surfaced_by_check=short(c for c in missed if c in surfaced),
                ))
        return out
