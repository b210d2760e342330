"""``evidence replay AREA|JUDGMENT``: every step by which a grade was reached, as text, Markdown, HTML or JSON.

The replay itself is plain data from ``ledger.replay``; this module only renders it. Output depends on the
ledger alone (no clock, no terminal width), so the same ledger always gives byte-identical output. The HTML is
one self-contained, printable, accessible file: no scripts, no external assets.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.session import session, utc_time

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.inspection import Inspection
    from ledger.replay import Replay, Step

FORMATS = ("text", "markdown", "html", "json")


def _at(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | datetime | None:
    if value is None:
        return None
    if value.strip().isdigit():
        return int(value)
    return utc_time(_ctx, _param, value)


@click.command()
@click.argument("target", metavar="AREA|JUDGMENT")
@click.option("--at", "at", callback=_at, metavar="TIME|POSITION", help="Show the state as it was then.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
def replay(target: str, at: int | datetime | None, fmt: str, output: Path | None) -> None:
    """Replay how the grade of AREA (or of the judgment with id JUDGMENT) was reached, step by step."""
    from cli.framework import framework_named
    from ledger import replay as replays
    from ledger.errors import BadInput
    from ledger.inspection import Inspection, load
    from ledger.judgment import Judgment, Proposed, area_of

    s = session()
    if re.fullmatch(r"[0-9a-fA-F-]{4,}", target):
        found = s.ledger.get(Judgment, s.ledger.resolve(target, [Proposed.TOPIC], "judgment"), what="judgment")
        assert found.inspection is not None
        inspection = s.ledger.get(Inspection, found.inspection, what="inspection")
        area = found.area
    else:
        inspection, area = load(s.ledger, s.inspection), target
    framework = framework_named(inspection.framework)
    area_of(framework, area)
    data = replays.replay(s.ledger, inspection, area, at=at, framework=framework, hidden=_blind(inspection))
    text = RENDERERS[fmt](data)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise BadInput(f"Cannot write {output} ({error.strerror}); choose another file with -o.") from None
        click.echo(f"Wrote the replay of {area} to {output}.")


def _blind(inspection: Inspection) -> Callable[[dict[str, Any]], bool]:
    """What open blind coding rounds withhold from the person asking (nothing, when no round is open)."""
    from projections import ready
    from projections.rounds import hidden_for

    s = session()
    return hidden_for(ready(s.ledger), inspection.id, s.viewer)


WITHHELD = "{n} cited coding(s) withheld while a blind coding round is open"


# --- text ------------------------------------------------------------------------------------


def say(grade: str | None) -> str:
    return (grade or "no grade").replace("-", " ")


def _heading(r: Replay) -> list[str]:
    scope = f"as it stood at {r.cutoff}" if r.cutoff else "full history"
    return [
        f"Replay of {r.area_title} ({r.area})",
        f"Inspection {r.inspection}, {r.authority} ({r.framework}); judgment {r.judgment[:8]}; {scope}, "
        f"through ledger position {r.through}.",
        f"Grade: {say(r.grade)} ({r.status}). {r.grade_meanings.get(r.grade or '', '')}".rstrip(),
    ]


def _step_lines(step: Step) -> list[str]:
    lines = [f"Step {step.number} - position {step.position} - {step.at} - {step.actor_name} ({step.role})",
             f"  {step.what[:1].upper()}{step.what[1:]}.", f"  Grade after this step: {say(step.grade)}."]
    if step.rationale:
        label = {"finalised": "Narrative", "feedback": "Said"}.get(step.kind, "Because")
        lines.append(f"  {label}: {step.rationale}")
    if step.dissent:
        lines.append(f"  Dissent: {step.dissent}")
    if step.panel:
        lines.append(f"  Panel {step.panel.number} ({step.panel.panel[:8]}): {', '.join(step.panel.members)}"
                     + (f"; asked to {step.panel.purpose}" if step.panel.purpose else ""))
    lines.extend(f"  Norm warning: [{w['rule']}] {w['message']}" for w in step.warnings)
    if step.evidence:
        lines.append(f"  Evidence cited ({len(step.evidence)}):")
        for q in step.evidence:
            lines.append(f"    [{q.coding[:8]}] {q.code}, {q.valence}{', band ' + say(q.band) if q.band else ''}; "
                         f"{q.kind} {q.source_title!r}{', case ' + q.case if q.case else ''}, chars {q.start}-{q.end}, "
                         f"coded by {q.coder}{'' if q.verified else '; QUOTE DOES NOT VERIFY'}"
                         f"{f'; withdrawn at position {q.withdrawn_at}' if q.withdrawn_at else ''}")
            lines.append(f"      \"{' '.join(q.text.split())}\"")
    if step.withheld:
        lines.append(f"  ({WITHHELD.format(n=step.withheld)})")
    for h in step.hypotheses:
        lines.append(f"  Hypothesis [{h.hypothesis[:8]}] {h.text!r}: expects {h.expects}, {h.status}, "
                     f"{h.checks} check(s)")
        lines.extend(f"    - position {e.position}, {e.at[:16]}, {e.actor}: {e.what}" for e in h.entries)
    if step.kind == "bias-review":
        lines.extend(
            f"    - {n.severity}: {n.title} ({n.check}). {n.explanation} Advice: {n.advice}" for n in step.bias
        )
    elif step.bias:
        lines.append(f"  {_open_findings(step)}")
    return lines


def _open_findings(step: Step) -> str:
    warnings = sum(n.severity != "info" for n in step.bias)
    return (f"Bias findings open then: {len(step.bias)} ({warnings} warnings), as recorded by the review at "
            f"position {step.bias_review_at}.")


def render_text(r: Replay) -> str:
    lines = _heading(r) + [""]
    for step in r.steps:
        lines += [*_step_lines(step), ""]
    lines.append("How the grade was reached:")
    lines.extend(f"  - {sentence}" for sentence in r.summary)
    return "\n".join(lines) + "\n"


# --- Markdown --------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_markdown(r: Replay) -> str:
    heading = _heading(r)
    lines = [f"# {heading[0]}", "", heading[1], "", f"**{heading[2]}**", "", "## Steps", "",
             "| # | Position | Time | Who | Role | What happened | Grade after |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {s.number} | {s.position} | {s.at} | {_cell(s.actor_name)} | {s.role} | {_cell(s.what)} | "
              f"{say(s.grade)} |" for s in r.steps]
    for step in r.steps:
        body = _step_lines(step)
        lines += ["", f"### Step {step.number}: {_cell(step.what)}", "", "```text", *body, "```"]
    lines += ["", "## How the grade was reached", ""] + [f"- {_cell(s)}" for s in r.summary]
    return "\n".join(lines) + "\n"


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #1b1b1b; background: #fff;
       max-width: 60rem; margin: 0 auto; padding: 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; margin-top: 2rem; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #6f777b; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f2f1; }
blockquote { margin: 0.3rem 0 0.6rem 1rem; padding-left: 0.6rem; border-left: 4px solid #1d70b8; }
.meta { color: #505a5f; font-size: 0.9rem; }
.warn { color: #942514; font-weight: bold; }
section.step { border-top: 1px solid #b1b4b6; margin-top: 1rem; page-break-inside: avoid; }
@media print { body { max-width: none; padding: 0; } a { color: inherit; } }
"""


def _html_step(step: Step) -> list[str]:
    e = escape
    out = [f'<section class="step" id="step-{step.number}" aria-labelledby="step-{step.number}-title">',
           f'<h3 id="step-{step.number}-title">Step {step.number}: {e(step.what)}</h3>',
           f'<p class="meta">Ledger position {step.position}, <time datetime="{e(step.at)}">{e(step.at)}</time>, '
           f"{e(step.actor_name)} ({e(step.role)}). Grade after this step: <strong>{e(say(step.grade))}</strong>.</p>"]
    if step.rationale:
        label = {"finalised": "Narrative", "feedback": "Said"}.get(step.kind, "Because")
        out.append(f"<p><strong>{label}:</strong> {e(step.rationale)}</p>")
    if step.dissent:
        out.append(f"<p><strong>Dissent:</strong> {e(step.dissent)}</p>")
    if step.panel:
        out.append(f"<p><strong>Panel {step.panel.number}:</strong> {e(', '.join(step.panel.members))}</p>")
    out += [f'<p class="warn">Norm warning: {e(w["message"])}</p>' for w in step.warnings]
    if step.evidence:
        out.append(f"<h4>Evidence cited ({len(step.evidence)})</h4><ul>")
        for q in step.evidence:
            flag = "" if q.verified else ' <span class="warn">(quote does not verify)</span>'
            band = e(", band " + say(q.band)) if q.band else ""
            out.append(f"<li><p class=\"meta\">{e(q.code)}, {e(q.valence)}{band}; "
                       f"{e(q.kind)} &ldquo;{e(q.source_title)}&rdquo;{e(', case ' + q.case) if q.case else ''}; "
                       f"coded by {e(q.coder)}; coding {e(q.coding[:8])}{flag}</p>"
                       f"<blockquote>{e(q.text)}</blockquote></li>")
        out.append("</ul>")
    if step.withheld:
        out.append(f"<p class=\"meta\">{e(WITHHELD.format(n=step.withheld))}.</p>")
    for h in step.hypotheses:
        out.append(f"<h4>Hypothesis {e(h.hypothesis[:8])}: {e(h.text)}</h4>"
                   f"<p class=\"meta\">Expects {e(h.expects)}; {e(h.status)}; {h.checks} check(s).</p><ul>")
        out += [f"<li>Position {x.position}, {e(x.at[:16])}, {e(x.actor)}: {e(x.what)}</li>" for x in h.entries]
        out.append("</ul>")
    if step.kind == "bias-review" and step.bias:
        out.append("<h4>Findings</h4><ul>")
        out += [f"<li><strong>{e(n.severity)}: {e(n.title)}</strong> {e(n.explanation)} <em>{e(n.advice)}</em></li>"
                for n in step.bias]
        out.append("</ul>")
    elif step.bias:
        out.append(f'<p class="meta">{e(_open_findings(step))}</p>')
    out.append("</section>")
    return out


def render_html(r: Replay) -> str:
    e = escape
    heading = _heading(r)
    rows = "\n".join(
        f'<tr><td><a href="#step-{s.number}">{s.number}</a></td><td>{s.position}</td><td>{e(s.at)}</td>'
        f"<td>{e(s.actor_name)}</td><td>{e(s.role)}</td><td>{e(s.what)}</td><td>{e(say(s.grade))}</td></tr>"
        for s in r.steps
    )
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', '<link rel="icon" href="data:,">',
        f"<title>{e(heading[0])}</title>",
        f"<style>{_CSS}</style>", "</head>", "<body>", "<main>", f"<h1>{e(heading[0])}</h1>",
        f'<p class="meta">{e(heading[1])}</p>', f"<p><strong>{e(heading[2])}</strong></p>",
        "<h2>Steps</h2>", "<table>", f"<caption>Every step by which the {e(r.area)} grade was reached</caption>",
        '<thead><tr><th scope="col">#</th><th scope="col">Position</th><th scope="col">Time</th>'
        '<th scope="col">Who</th><th scope="col">Role</th><th scope="col">What happened</th>'
        '<th scope="col">Grade after</th></tr></thead>', f"<tbody>\n{rows}\n</tbody>", "</table>",
        "<h2>Each step</h2>",
    ]
    for step in r.steps:
        parts += _html_step(step)
    parts += ["<h2>How the grade was reached</h2>", "<ul>", *(f"<li>{e(s)}</li>" for s in r.summary), "</ul>",
              "</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def render_json(r: Replay) -> str:
    import msgspec

    return msgspec.json.format(msgspec.json.encode(r), indent=2).decode() + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html, "json": render_json}
