"""Report-language rules: exact positions, clean calibrated text, citations, counts, the plugin."""

from __future__ import annotations

import random
import re
import types
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.contracts import LanguageFinding, LanguageRule
from ledger.errors import BadInput
from ledger.pluginmanager import collect, new_plugin_manager
from plugins.language import (
    BUILTIN_RULES,
    SEVERITY_ORDER,
    counts,
    exceeds,
    lint_text,
    per_10k_words,
    word_count,
)
from plugins.language.text import compile_phrases

RULE_NAMES = ("ensure", "safety-guarantee", "absolute", "causal-claim")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "language.md"

# --- a generated text with planted phrases at known positions ---------------------------------


class Plant(NamedTuple):
    """A sentence: lead-in, the flagged phrase's words, the separator between them, and its tail."""

    rule: str
    lead: str
    words: tuple[str, ...]
    tail: str = ""
    sep: str = " "


PLANTS = (
    Plant("ensure", "", ("Ensure",), " that plans are reviewed"),
    Plant("ensure", "The director 🙂 ", ("ensures",), " that visits happen"),
    Plant("ensure", "Managers are ", ("ENSURING",), " that records are kept"),
    Plant("ensure", "Leaders have ", ("ensured",), " oversight"),
    Plant("safety-guarantee", "Children are ", ("kept", "safe"), " by the service", "\r\n"),
    Plant("safety-guarantee", "Café visits show the child ", ("is", "safe"), " at home"),
    Plant("safety-guarantee", "They said the children ", ("are", "safe", "from", "harm")),
    Plant("safety-guarantee", "Plans keep children ", ("safe", "from", "harm"), " at night"),
    Plant("safety-guarantee", "The new protocol ", ("eliminated", "risk"), " entirely"),
    Plant("safety-guarantee", "Leaders believe it ", ("eliminates", "the", "risks"), " here"),
    Plant("safety-guarantee", "There is ", ("no", "risk"), " to the child"),
    Plant("safety-guarantee", "The placement is ", ("risk-free",)),
    Plant("safety-guarantee", "Leaders ", ("guarantee",), " stability"),
    Plant("safety-guarantee", "Élodie said “", ("it’s", "safe"), "” now"),
    Plant("safety-guarantee", "José said ", ("they’re", "safe"), " at school"),
    Plant("absolute", "", ("All", "children"), " are seen"),
    Plant("absolute", "Managers see ", ("every", "child"), "’s plan"),
    Plant("absolute", "Workers ", ("always",), " visit"),
    Plant("absolute", "Plans are ", ("never",), " late"),
    Plant("absolute", "In ", ("none", "of", "the"), " cases was there drift"),
    Plant("absolute", "Visits happen ", ("without", "exception")),
    Plant("absolute", "Leaders know ", ("all", "children"), " in care", "\n"),
    Plant("absolute", "Staff know 👩\u200d👧", ("every", "young", "person")),
    Plant("absolute", "Ze\u0301lie’s team: “", ("ALWAYS",), "” prompt"),
    Plant("causal-claim", "", ("As", "a", "result"), ", caseloads fell"),
    Plant("causal-claim", "Visits rose ", ("as", "a", "result", "of"), " new staff"),
    Plant("causal-claim", "Training ", ("led", "to"), " better plans"),
    Plant("causal-claim", "Supervision ", ("leads", "to"), " reflection"),
    Plant("causal-claim", "The audit ", ("resulted", "in"), " change"),
    Plant("causal-claim", "Early help ", ("results", "in"), " fewer referrals"),
    Plant("causal-claim", "The plan ", ("prevented",), " drift"),
    Plant("causal-claim", "Oversight ", ("prevents",), " delay"),
    Plant("causal-claim", "Drift arose ", ("because", "of"), " turnover"),
    Plant("causal-claim", "Delay was ", ("due", "to"), " sickness"),
    Plant("causal-claim", "Turnover ", ("caused",), " delay"),
    Plant("causal-claim", "The change ", ("was", "a", "result", "of"), " audits"),
    Plant("causal-claim", "Stability improved, ", ("resulting", "in"), " fewer moves"),
    Plant("causal-claim", "Caseloads fell ", ("as", "a", "result", "of"), " recruitment", "\r\n"),
    Plant("causal-claim", "🙂", ("led", "to"), " change", "\n"),
)

#: Calibrated sentences that no rule flags (also the clean control text).
FILLER = (
    "Managers reviewed most plans within timescales.",
    "Social workers know the children well.",
    "Zoë’s team visited the family home.",
    "In 18 of 25 cases seen, plans were clear.",
    "Risks are identified and reduced.",
    "The number of visits increased, which coincided with lower caseloads.",
    "Leaders have a good grasp of practice 🙂 overall.",
    "Return interviews followed most missing episodes.",
    "Caseloads fell, which led to more visits [coding 1a2b3c4d].",
    "Drift reduced because of audits. [c:0123abcd]",
    "Records [source 9F8E7D6C5B] show turnover caused delay.",
)

NEAR_MISSES = (
    "Safety planning is strong and unsafe practice is challenged.",
    "Children are safer, and risks are identified and reduced.",
    "The child is safeguarded by a clear plan; this is safety work.",
    "Files are kept safely.",
    "The team leader and the leadership group meet weekly.",
    "Prevention work is good and most harm was preventable.",
    "The resultant plan was clear and exam results indicate progress.",
    "As a rule, visits are weekly.",
    "Nevertheless, small children and overall outcomes improved.",
    "Everyone in the service knows every childminder.",
    "Insurance costs were reviewed; the service was censured in 2015.",
    "The hallways were calm.",
    "Leaders led toddler groups.",
    "There was no risk assessment on file and no risk management plan.",
    "The review is due to be held in May and the plan is due to start soon.",
    "Because officers were new, visits slowed.",
    "The guarantor signed, and the guaranteed interview scheme helps care leavers.",
    "The causes of neglect are understood.",
    "Outcomes coincided with the new service and are associated with lower caseloads.",
    "Most children are seen alone, in the cases seen.",
    "Plans are consistently reviewed; leaders make sure that plans are reviewed by strengthening "
    "supervision.",
)


class Expected(NamedTuple):
    rule: str
    line: int
    column: int
    offset: int
    phrase: str


class TextBuilder:
    """Builds a text, counting lines, columns and offsets itself, independently of the linter."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset, self.line, self.column = 0, 1, 1
        self.expected: list[Expected] = []

    def add(self, chunk: str) -> None:
        assert "\r" not in chunk and "\n" not in chunk, "use newline() for line breaks"
        self.parts.append(chunk)
        self.offset += len(chunk)
        self.column += len(chunk)

    def newline(self, ending: str, lines: int = 1) -> None:
        self.parts.append(ending)
        self.offset += len(ending)
        self.line, self.column = self.line + lines, 1

    def plant(self, plant: Plant) -> None:
        self.add(plant.lead)
        self.expected.append(
            Expected(plant.rule, self.line, self.column, self.offset, plant.sep.join(plant.words))
        )
        for index, word in enumerate(plant.words):
            if index:
                if plant.sep in ("\n", "\r\n", "\r"):
                    self.newline(plant.sep)
                else:
                    self.add(plant.sep)
            self.add(word)
        self.add(plant.tail + ".")

    def text(self) -> str:
        return "".join(self.parts)


def generated_text(seed: int) -> tuple[str, list[Expected]]:
    """Plants and filler shuffled over many lines with mixed line endings."""
    rng = random.Random(seed)
    items: list[Plant | str] = [*PLANTS, *FILLER, *FILLER, *NEAR_MISSES]
    rng.shuffle(items)
    builder = TextBuilder()
    for index, item in enumerate(items):
        if index:
            if rng.random() < 0.5:
                builder.newline(*rng.choice((("\n", 1), ("\r\n", 1), ("\r", 1), ("\r\n\r\n", 2))))
            else:
                builder.add(" ")
        if isinstance(item, Plant):
            builder.plant(item)
        else:
            builder.add(item)
    return builder.text(), builder.expected


@pytest.mark.parametrize("seed", [1, 2, 3, 20240501])
def test_every_planted_phrase_is_found_exactly_and_nothing_else(seed: int) -> None:
    text, expected = generated_text(seed)
    findings = lint_text(text)
    assert [Expected(f.rule, f.line, f.column, f.offset, f.phrase) for f in findings] == expected
    for finding in findings:
        assert finding.length == len(finding.phrase)
        assert text[finding.offset : finding.offset + finding.length] == finding.phrase
    assert expected[-1].line > 20  # the text really spans many lines


def test_code_point_columns_after_accents_and_emoji() -> None:
    text = "Zoë 👩\u200d👧 e\u0301 always.\r\nCafé 🙂never."
    findings = lint_text(text)
    assert [(f.phrase, f.line, f.column, f.offset) for f in findings] == [
        ("always", 1, 12, 11),
        ("never", 2, 7, 26),
    ]


def test_calibrated_text_and_near_misses_yield_nothing() -> None:
    clean = "\r\n".join(FILLER + NEAR_MISSES)
    assert lint_text(clean) == []


def test_severities_and_messages() -> None:
    text = "Ensure it is safe: all children improved as a result."
    by_rule = {f.rule: f for f in lint_text(text)}
    assert {rule: f.severity for rule, f in by_rule.items()} == {
        "ensure": "warning",
        "safety-guarantee": "error",
        "absolute": "warning",
        "causal-claim": "error",
    }
    assert "'is safe'" in by_rule["safety-guarantee"].message
    assert "coincided with" in by_rule["causal-claim"].suggestion


def test_ensure_at_sentence_start_is_called_out_as_a_recommendation_opening() -> None:
    text = "Ensure plans are reviewed.\n- ensure visits. Leaders will ensure it."
    first, second, third = lint_text(text)
    assert "begins" in first.message and "begins" in second.message
    assert "begins" not in third.message


def test_a_phrase_broken_over_lines_is_reported_as_written() -> None:
    (finding,) = lint_text("Children are kept\r\n   safe.")
    assert finding.phrase == "kept\r\n   safe"
    assert (finding.line, finding.column) == (1, 14)
    assert "'kept safe'" in finding.message


# --- causal claims and citations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Caseloads fell, which led to more visits.", True),
        ("Caseloads fell, which led to more visits [coding 1a2b3c4d].", False),
        ("Caseloads fell, which led to more visits [source 1A2B3C4D9E].", False),
        ("Caseloads fell, which led to more visits [c:1a2b3c4d].", False),
        ("Caseloads fell, so led to more visits [c:1a2b3c4d-89ab-4cde-8f01-23456789abcd].", False),
        ("Caseloads fell, which led to more visits [coding 1a2b3c4d; source 9f8e7d6c].", False),
        ("Caseloads fell, which led to more visits. [c:1a2b3c4d]", False),
        ("Visits rose, e.g. in May, as a result of new staff [c:1a2b3c4d].", False),
        ("Caseloads fell, which led to more visits [c:1a2b3c].", True),
        ("Caseloads fell, which led to more visits [x:1a2b3c4d].", True),
        ("Caseloads fell, which led to more visits (coding 1a2b3c4d).", True),
        ("Caseloads fell, which led to more visits. Audits were done [c:1a2b3c4d].", True),
        ("Audits were done [c:1a2b3c4d]. Caseloads fell, which led to more visits.", True),
        ("- Visits led to change\n- Audit [c:1a2b3c4d]", True),
        ("Visits led to change\n\n[c:1a2b3c4d]", True),
    ],
)
def test_a_causal_claim_is_flagged_only_without_a_citation(text: str, flagged: bool) -> None:
    found = [f for f in lint_text(text) if f.rule == "causal-claim"]
    assert len(found) == (1 if flagged else 0)


# --- counts, rates and thresholds --------------------------------------------------------------


def test_counts_equal_the_known_counts() -> None:
    text = "Ensure A. Ensure B.\nLeaders ensure C. All children are always seen. It is safe."
    findings = lint_text(text)
    assert counts(findings) == {"ensure": 3, "absolute": 2, "safety-guarantee": 1}
    assert counts(findings, RULE_NAMES) == {
        "ensure": 3,
        "safety-guarantee": 1,
        "absolute": 2,
        "causal-claim": 0,
    }


def test_word_count() -> None:
    assert word_count("Children’s risk-free plans, in 2017: 12 of 25.") == 8
    assert word_count(" \r\n🙂 ") == 0


def test_per_10k_words_arithmetic() -> None:
    text = "Ensure plans. Ensure visits. Staff always visit. " + "plans " * 393
    assert word_count(text) == 400
    findings = lint_text(text)
    assert per_10k_words(findings, text) == {"ensure": 50.0, "absolute": 25.0}
    assert per_10k_words(findings, text, RULE_NAMES)["causal-claim"] == 0.0
    assert per_10k_words([], "", RULE_NAMES) == dict.fromkeys(RULE_NAMES, 0.0)


def _finding(severity: str) -> LanguageFinding:
    return LanguageFinding(
        rule="r", line=1, column=1, offset=0, length=1, phrase="x", message="m", suggestion="s",
        severity=severity,  # type: ignore[arg-type]
    )


def test_exceeds_is_at_or_above_the_threshold() -> None:
    warnings = [_finding("info"), _finding("warning")]
    assert exceeds(warnings, "info") and exceeds(warnings, "warning")
    assert not exceeds(warnings, "error")
    assert exceeds([_finding("error")], "error")
    assert not exceeds([], "info")
    assert list(SEVERITY_ORDER) == ["info", "warning", "error"]
    with pytest.raises(BadInput, match="use one of: info, warning, error"):
        exceeds(warnings, "fatal")


# --- the rules themselves ----------------------------------------------------------------------


def test_the_plugin_registers_the_built_in_rules() -> None:
    pm = new_plugin_manager(load_entry_points=False)
    registered = collect(pm, "register_language_rules")
    assert list(registered.items) == list(RULE_NAMES)
    assert set(registered.suppliers.values()) == {"plugins.language"}
    for rule in registered:
        assert isinstance(rule, LanguageRule)
        assert rule.description


def test_lint_text_runs_only_the_given_rules() -> None:
    text = "Ensure all children are safe."
    safety = [rule for rule in BUILTIN_RULES if rule.name == "safety-guarantee"]
    assert [f.rule for f in lint_text(text, safety)] == ["safety-guarantee"]
    assert lint_text(text, []) == []


def test_suggestions_are_themselves_calibrated() -> None:
    for rule in BUILTIN_RULES:
        for phrase in rule.phrases:
            assert lint_text(phrase.suggestion) == [], (rule.name, phrase.suggestion)


def test_a_capturing_group_in_a_phrase_is_refused() -> None:
    with pytest.raises(ValueError, match="capturing group"):
        compile_phrases(["(kept) safe"])


def test_docs_describe_every_rule_and_the_citation_convention() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for rule in BUILTIN_RULES:
        assert f"## `{rule.name}` ({rule.severity})" in docs
    for example in ("[coding 1a2b3c4d]", "[source 1a2b3c4d]", "[c:1a2b3c4d]"):
        assert example in docs


def test_the_example_rule_in_the_docs_plugs_in() -> None:
    section = DOCS.read_text(encoding="utf-8").split("## Writing a rule", 1)[1]
    source = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert source is not None
    plugin = types.ModuleType("example_language_plugin")
    exec(compile(source.group(1), str(DOCS), "exec"), plugin.__dict__)  # noqa: S102 - our own docs
    pm = new_plugin_manager(load_entry_points=False)
    pm.register(plugin, name="example_language_plugin")
    registered = collect(pm, "register_language_rules")
    assert registered.suppliers["prediction"] == "example_language_plugin"
    findings = lint_text("Leaders will\ncertainly improve practice.", registered)
    assert [(f.rule, f.line, f.column, f.phrase) for f in findings] == [
        ("prediction", 1, 9, "will\ncertainly")
    ]


# --- any text: positions are consistent --------------------------------------------------------

TOKENS = st.sampled_from(
    [" ", "\n", "\r\n", "\r", "\t", ".", "-", "’s", "🙂", "é", "e\u0301", "[c:1a2b3c4d]", "kept",
     "safe", "is", "ensure", "all", "children", "never", "as", "a", "result", "of", "led", "to",
     "due", "be", "no", "risk", "free", "Always"]
)


@given(st.lists(TOKENS, max_size=40).map("".join))
def test_positions_agree_with_the_text(text: str) -> None:
    findings = lint_text(text)
    assert [f.offset for f in findings] == sorted(f.offset for f in findings)
    for finding in findings:
        assert text[finding.offset : finding.offset + finding.length] == finding.phrase
        before = re.split(r"\r\n|\r|\n", text[: finding.offset])
        assert (finding.line, finding.column) == (len(before), len(before[-1]) + 1)
        assert finding.rule in RULE_NAMES
