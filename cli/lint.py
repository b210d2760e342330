"""``evidence lint FILE|--report``: flag report language to use with care, with calibrated alternatives.

Files are read with the importers (text, Markdown, Word, PDF...), so a finding's line and column count in
the text the importer extracts (for a text file: the file's own lines, front matter included). Every
registered language rule runs, third-party ones too. The exit status is 1 when a finding reaches
``--fail-on``; a file that cannot be read is a one-line error (status 2).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cli.session import json_option, out_json
from ledger.errors import BadInput

SEVERITIES = ("info", "warning", "error")


def _front_matter_lines(path: Path, body: str) -> int:
    """How many lines a text file holds before ``body`` (its front matter), so lines count in the file."""
    try:
        whole = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError):
        return 0
    if not whole.endswith(body) or len(whole) == len(body):
        return 0
    head = whole[: len(whole) - len(body)]
    return head.count("\n") + head.count("\r") - head.count("\r\n")


def read_text(path: Path, format_: str | None) -> tuple[str, int]:
    """The text an importer reads from ``path`` (several sources joined by a blank line) and its line offset."""
    from plugins.importers import read_file

    sources = read_file(path, format=format_)
    text = "\n\n".join(source.text for source in sources)
    offset = _front_matter_lines(path, text) if len(sources) == 1 and sources[0].format == "text" else 0
    return text, offset


def _finding(finding: Any, offset: int) -> dict[str, Any]:
    import msgspec

    return msgspec.to_builtins(finding) | {"line": finding.line + offset}


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--report", "use_report", is_flag=True, help="Lint the current inspection's draft report instead.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="error", show_default=True,
              help="Exit with status 1 when a finding is at least this severe.")
@click.option("--format", "format_", metavar="NAME", help="Read FILE with this importer instead of guessing.")
@json_option
def lint(file: Path | None, use_report: bool, fail_on: str, format_: str | None, as_json: bool) -> None:
    """Flag phrases to use with care in FILE (text, .docx, .pdf) or the draft report (--report)."""
    from ledger.pluginmanager import registered
    from plugins.language import counts, exceeds, lint_text, per_10k_words, word_count

    if (file is None) == (not use_report):
        raise BadInput("Give either a FILE to lint or --report for the draft report, not both or neither.")
    if use_report:
        from cli.report import draft_markdown

        name, text, offset = "draft report (Markdown)", draft_markdown(), 0
    else:
        assert file is not None
        text, offset = read_text(file, format_)
        name = str(file)
    rules = registered("register_language_rules")
    found = lint_text(text, rules)
    names = [rule.name for rule in rules]
    failed = exceeds(found, fail_on)
    rates = {rule: round(rate, 2) for rule, rate in per_10k_words(found, text, names).items()}
    if as_json:
        out_json({
            "file": name, "words": word_count(text), "fail_on": fail_on, "failed": failed,
            "findings": [_finding(f, offset) for f in found], "counts": counts(found, names),
            "per_10k_words": rates,
        })
    else:
        for f in found:
            click.echo(f"{name}:{f.line + offset}:{f.column}: {f.severity} [{f.rule}] {f.message} "
                       f"Try: {f.suggestion}")
        tally = ", ".join(f"{rule} {n} ({rates[rule]:g} per 10,000 words)" for rule, n in counts(found, names).items())
        click.echo(f"{len(found)} finding(s) in {word_count(text)} words: {tally}.")
        if failed:
            click.echo(f"At least one finding is {fail_on} or worse (--fail-on {fail_on}).")
    if failed:
        sys.exit(1)  # not click's Exit: in non-standalone mode click returns its code instead of exiting
