"""The built-in report-language rules: words the SIF evaluation asks inspectors to use with care.

Each rule is a list of whole-word, case-insensitive phrases, each with a calibrated alternative.
docs/language.md explains every rule, its phrases and its alternatives.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from ledger.contracts import LanguageFinding, Severity
from plugins.language.text import TextView, compile_phrases

if TYPE_CHECKING:
    from collections.abc import Sequence

_APOSTROPHE = "['’]"
_HYPHEN = r"(?:\s*[-\u2010\u2011]\s*|\s+)"


class Phrase(NamedTuple):
    """A phrase pattern (a space matches any whitespace) and the calibrated wording to use."""

    pattern: str
    suggestion: str


class PhraseRule:
    """Flags every whole-word occurrence of its phrases; subclasses list them and may filter."""

    name: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity]
    #: Why the phrase is flagged; ``{phrase}`` is replaced by the phrase as written, on one line.
    message: ClassVar[str]
    phrases: ClassVar[Sequence[Phrase]]

    def __init__(self) -> None:
        self._regex = compile_phrases(phrase.pattern for phrase in self.phrases)

    def find(self, text: str) -> list[LanguageFinding]:
        """Each occurrence in ``text`` in order; lines, columns 1-based, offsets in code points."""
        view = TextView(text)
        findings = []
        for match in self._regex.finditer(text):
            if not self.applies(view, match):
                continue
            line, column = view.line_column(match.start())
            phrase = match.group()
            findings.append(
                LanguageFinding(
                    rule=self.name,
                    line=line,
                    column=column,
                    offset=match.start(),
                    length=len(phrase),
                    phrase=phrase,
                    message=self.explain(view, match).format(phrase=" ".join(phrase.split())),
                    suggestion=self.phrases[int(str(match.lastgroup)[1:])].suggestion,
                    severity=self.severity,
                )
            )
        return findings

    def applies(self, view: TextView, match: re.Match[str]) -> bool:
        """Whether this occurrence is a finding (all are, unless a subclass says otherwise)."""
        return True

    def explain(self, view: TextView, match: re.Match[str]) -> str:
        """The message for this occurrence."""
        return self.message


class EnsureRule(PhraseRule):
    """'Ensure' names a hoped-for outcome, not the action or who takes it."""

    name = "ensure"
    description = (
        "'Ensure' states an outcome without the action or who takes it; 53% of 1,320 SIF "
        "recommendations begin with it."
    )
    severity = "warning"
    message = "'{phrase}' states an outcome without saying what will be done, or by whom."
    phrases = (
        Phrase(
            "ensur(?:e|es|ed|ing)",
            "Name the action and who does it: 'make sure that ... by ...', or a specific verb "
            "such as 'strengthen ...', 'review ...' or 'increase ...'.",
        ),
    )

    def explain(self, view: TextView, match: re.Match[str]) -> str:
        if view.begins_sentence(match.start()):
            return (
                "The sentence begins with '{phrase}', as 53% of SIF recommendations do; it names "
                "an outcome but not the action or who will take it."
            )
        return self.message


_SAFER = (
    "Risk cannot be removed: say 'risks are identified and reduced', 'are safer' or 'risk is well "
    "managed'."
)
_MANAGED = "Say 'reduce risk', 'risks are identified and reduced' or 'risk is well managed'."


class SafetyGuaranteeRule(PhraseRule):
    """Safety stated as a certainty: risk can be reduced and managed, never eliminated."""

    name = "safety-guarantee"
    description = (
        "Claims that children are safe or that risk is gone; risk can be identified, reduced and "
        "managed, never eliminated, and the future cannot be promised."
    )
    severity = "error"
    message = (
        "'{phrase}' claims certainty about safety; risk cannot be eliminated, only reduced and "
        "managed."
    )
    phrases = (
        Phrase("(?:kept|is|are) safe(?: from harm)?", _SAFER),
        Phrase(f"(?:it|that|this|he|she){_APOSTROPHE}s safe(?: from harm)?", _SAFER),
        Phrase(f"(?:they|we|you){_APOSTROPHE}re safe(?: from harm)?", _SAFER),
        Phrase("safe from harm", _SAFER),
        Phrase("eliminat(?:e|es|ed|ing) (?:(?:the|all|any) )?risks?", _MANAGED),
        # "no risk assessment" and similar describe a missing document, not a claim of safety.
        Phrase(
            r"no risks?(?! (?:assessments?|management|plans?|analys[ie]s|factors?|rating|register|"
            r"indicators?|screening)\b)",
            "Say 'low risk', 'no identified risk' or 'risk is well managed'.",
        ),
        Phrase(f"risk{_HYPHEN}free", "Say 'lower-risk' or 'risk is well managed'."),
        # The care leavers' "guaranteed interview" scheme is a name, not a promise.
        Phrase(
            r"guarantee(?:s|d|ing)?(?! interviews?\b)",
            "The future cannot be promised: say 'is designed to', 'makes ... more likely' or "
            "'risks are identified and reduced'.",
        ),
    )


_HOW_MANY = "Say how many: 'most', 'in the cases seen', or 'in X of Y cases'."


class AbsoluteRule(PhraseRule):
    """Absolute claims that a sample of cases cannot support."""

    name = "absolute"
    description = (
        "Absolute claims ('all children', 'always', 'never') that an inspection's sample of cases "
        "cannot support."
    )
    severity = "warning"
    message = (
        "'{phrase}' is an absolute claim; an inspection sees a sample of cases, so say how many."
    )
    phrases = (
        Phrase("all (?:children|young people)", _HOW_MANY),
        Phrase("every (?:child|young person)", _HOW_MANY),
        Phrase("always", "Say 'consistently', 'in the cases seen', or 'in X of Y cases'."),
        Phrase("never", "Say 'rarely', 'not in any of the cases seen', or 'in 0 of Y cases'."),
        Phrase(
            "none of (?:the|them|these|those)", "Say 'few of the', or 'in 0 of the Y cases seen'."
        ),
        Phrase("without exception", "Say 'consistently', or 'in each of the X cases seen'."),
    )


#: Verbs after "due to" that mean a date, not a cause ("due to be reviewed", "due to start").
_SCHEDULED = (
    "be|start|begin|end|finish|close|open|complete|conclude|commence|take|attend|leave|move|"
    "return|report|retire|expire|meet|transfer"
)
_CAUSAL_SUGGESTION = (
    "Say 'coincided with', 'is associated with' or 'followed', or cite the evidence in the "
    "sentence, as in [coding 1a2b3c4d]."
)


class CausalClaimRule(PhraseRule):
    """Claims that one thing caused another, made in a sentence that cites no evidence."""

    name = "causal-claim"
    description = (
        "Causal claims ('as a result', 'led to', 'prevented') in a sentence citing no ledger "
        "evidence; a correlation between service and outcome is not proof of cause."
    )
    severity = "error"
    message = (
        "'{phrase}' claims a cause but the sentence cites no evidence; a correlation between "
        "service and outcome is not proof of cause."
    )
    phrases = tuple(
        Phrase(pattern, _CAUSAL_SUGGESTION)
        for pattern in (
            "as a result(?: of)?",
            "(?:is|was|are|were) (?:a|the) (?:direct )?result of",
            "(?:led|leads|leading) to",
            "(?:resulted|results|resulting) in",
            "prevent(?:ed|s)",
            "because of",
            rf"due to(?! (?:{_SCHEDULED})\b)",
            "caused",
        )
    )

    def applies(self, view: TextView, match: re.Match[str]) -> bool:
        return not view.cites_evidence(match.start())


BUILTIN_RULES: tuple[PhraseRule, ...] = (
    EnsureRule(),
    SafetyGuaranteeRule(),
    AbsoluteRule(),
    CausalClaimRule(),
)
