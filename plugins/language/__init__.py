"""Report-language review: flag phrases the SIF evaluation asks inspectors to use with care.

Registers the built-in rules (``ensure``, ``safety-guarantee``, ``absolute``, ``causal-claim``) and
offers the helpers the CLI and reports use: lint a text, count findings per rule, rate them per
10,000 words, and decide whether findings reach a severity threshold. See docs/language.md.
"""

from __future__ import annotations

from collections import Counter
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from ledger.errors import BadInput
from ledger.hookspecs import hookimpl
from plugins.lazy import lazy_exports

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from ledger.contracts import LanguageFinding, LanguageRule

__all__ = [
    "BUILTIN_RULES",
    "CITATION",
    "SEVERITY_ORDER",
    "AbsoluteRule",
    "CausalClaimRule",
    "EnsureRule",
    "Phrase",
    "PhraseRule",
    "SafetyGuaranteeRule",
    "counts",
    "exceeds",
    "lint_text",
    "per_10k_words",
    "register_language_rules",
    "word_count",
]

__getattr__ = lazy_exports(__name__, {
    **dict.fromkeys(
        ("BUILTIN_RULES", "AbsoluteRule", "CausalClaimRule", "EnsureRule", "Phrase", "PhraseRule",
         "SafetyGuaranteeRule"),
        "plugins.language.rules",
    ),
    "CITATION": "plugins.language.text",
    "word_count": "plugins.language.text",
})

#: Severity -> rank, least serious first.
SEVERITY_ORDER: Final[Mapping[str, int]] = MappingProxyType({"info": 0, "warning": 1, "error": 2})


@hookimpl
def register_language_rules(register: Callable[[LanguageRule], None]) -> None:
    """Register the built-in report-language rules."""
    from plugins.language.rules import BUILTIN_RULES

    for rule in BUILTIN_RULES:
        register(rule)


def lint_text(text: str, rules: Iterable[LanguageRule] | None = None) -> list[LanguageFinding]:
    """Every finding of ``rules`` (the built-in ones when None) in ``text``, sorted by offset.

    To include third-party rules, pass
    ``ledger.pluginmanager.registered("register_language_rules")``.
    """
    from plugins.language.rules import BUILTIN_RULES

    chosen = BUILTIN_RULES if rules is None else rules
    findings = [finding for rule in chosen for finding in rule.find(text)]
    return sorted(findings, key=lambda f: (f.offset, f.length, f.rule))


def counts(findings: Iterable[LanguageFinding], names: Iterable[str] = ()) -> dict[str, int]:
    """Findings per rule name; every name in ``names`` is present, with 0 when it found nothing."""
    found = Counter(finding.rule for finding in findings)
    return {name: found[name] for name in names} | dict(found)


def per_10k_words(
    findings: Iterable[LanguageFinding], text: str, names: Iterable[str] = ()
) -> dict[str, float]:
    """Findings per rule per 10,000 words of ``text`` (0.0 for every rule when it has no words)."""
    from plugins.language.text import word_count

    words = word_count(text)
    found = counts(findings, names)
    return {name: n * 10_000 / words if words else 0.0 for name, n in found.items()}


def exceeds(findings: Iterable[LanguageFinding], threshold: str) -> bool:
    """Whether any finding is at or above ``threshold`` ("info", "warning" or "error").

    The CLI exits non-zero when this is true, so ``--fail-on error`` fails on errors only.
    """
    if threshold not in SEVERITY_ORDER:
        raise BadInput(
            f"Unknown severity threshold {threshold!r}; use one of: {', '.join(SEVERITY_ORDER)}."
        )
    rank = SEVERITY_ORDER[threshold]
    return any(SEVERITY_ORDER[finding.severity] >= rank for finding in findings)
