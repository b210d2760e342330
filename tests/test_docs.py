"""Meta-tests (in the style of datasette's): the reference docs match the code, and the code is documented.

The generated files docs/cli.md, docs/hooks.md and docs/events.md must equal what ``cli.reference`` produces
now; every hook must be documented with its exact signature and exercised by some test; every command must
import and carry help.
"""

from __future__ import annotations

import importlib
import inspect
import re
import uuid
from pathlib import Path

import click
import pluggy
import pytest
from click.testing import CliRunner

from cli import reference
from cli.main import COMMANDS, available, cli
from ledger import catalogue, hookspecs
from ledger.events import TOPICS, Event, Role, now
from ledger.hookspecs import hookimpl
from ledger.pluginmanager import plugin_manager

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def _hooks() -> list[tuple[str, object, dict]]:
    """Every hook spec, found through pluggy itself (independently of the generator)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    found = []
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        opts = pm.parse_hookspec_opts(hookspecs, name)
        if opts is not None:
            found.append((name, function, opts))
    return found


HOOKS = _hooks()


def test_hookspecs_define_hooks() -> None:
    assert len(HOOKS) >= 8
    assert {name for name, _, _ in HOOKS} == {name for name, _, _ in reference.hookspec_functions()}


@pytest.mark.parametrize("name", sorted(reference.GENERATED))
def test_generated_doc_is_current(name: str) -> None:
    path = reference.DOCS / name
    assert path.is_file(), f"docs/{name} is missing; run `{reference.REGENERATE}`."
    expected = reference.GENERATED[name]()
    assert path.read_text(encoding="utf-8") == expected, (
        f"docs/{name} is stale; run `{reference.REGENERATE}` and commit the result."
    )


@pytest.mark.parametrize(("name", "function", "opts"), HOOKS, ids=[h[0] for h in HOOKS])
def test_hook_documented_with_exact_signature(name: str, function: object, opts: dict) -> None:
    text = (reference.DOCS / "hooks.md").read_text(encoding="utf-8")
    signature = f"{name}{inspect.signature(function)}"  # type: ignore[arg-type]
    assert f"## {name}\n" in text, f"hook {name} has no section in docs/hooks.md"
    assert signature in text, f"docs/hooks.md does not show {signature}; run `{reference.REGENERATE}`."
    section = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
    assert ("**firstresult**" in section) == bool(opts.get("firstresult"))
    first_line = inspect.getdoc(function).splitlines()[0]  # type: ignore[union-attr]
    assert first_line in section


def _test_texts() -> dict[Path, str]:
    """Every test file's text (this file included: it names only the hook it really exercises)."""
    return {path: path.read_text(encoding="utf-8") for path in TESTS.rglob("*.py")}


@pytest.mark.parametrize("name", [h[0] for h in HOOKS])
def test_hook_is_exercised_by_a_test(name: str) -> None:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    users = [path.name for path, text in _test_texts().items() if pattern.search(text)]
    assert users, f"No test under tests/ mentions the hook {name}; write one."


@pytest.mark.parametrize("name", sorted(name for name, spec in COMMANDS.items() if available(spec)))
def test_registered_command_imports(name: str) -> None:
    """Every listed command whose module is written imports and is a click command (a name may wait for its module)."""
    module_name, _, attribute = COMMANDS[name].partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(command, click.Command)


def _commands() -> list[tuple[click.Context, click.Command]]:
    return list(reference.walk_commands())


def test_walk_reaches_every_command_and_subcommand() -> None:
    paths = {ctx.command_path for ctx, _ in _commands()}
    assert {f"evidence {name}" for name, spec in COMMANDS.items() if available(spec)} <= paths
    assert {"evidence member add", "evidence stage enter", "evidence inspection open"} <= paths
    text = reference.cli_reference()
    for path in paths:
        assert re.search(rf"^#+ {re.escape(path)}$", text, re.MULTILINE), f"{path} has no section"


@pytest.mark.parametrize(
    ("ctx", "command"), [pytest.param(ctx, command, id=ctx.command_path) for ctx, command in _commands()]
)
def test_command_has_help(ctx: click.Context, command: click.Command) -> None:
    assert (command.help or "").strip(), f"'{ctx.command_path}' has no help text; give it a docstring."
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"'{ctx.command_path}' option {param.opts} has no help."


def test_stale_check_and_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(reference, "DOCS", tmp_path)
    assert reference.stale() == list(reference.GENERATED)
    assert reference.main(["--check"]) == 1
    assert reference.REGENERATE in capsys.readouterr().err
    assert reference.main(["--write"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(reference.GENERATED)
    assert reference.main(["--check"]) == 0
    (tmp_path / "hooks.md").write_text("edited by hand\n", encoding="utf-8")
    assert reference.stale() == ["hooks.md"]
    assert reference.write() == ["hooks.md"]
    assert reference.stale() == []


def test_main_needs_a_mode() -> None:
    with pytest.raises(SystemExit) as exit_info:
        reference.main([])
    assert exit_info.value.code == 2


class _ExtraCommands:
    """A plugin adding a command through ``register_commands``."""

    @hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @click.command("frobnicate")
        @click.option("--level", metavar="N", help="How hard to frobnicate.")
        def frobnicate(level: str | None) -> None:
            """Frobnicate the evidence (a test command)."""
            click.echo(f"frobnicated at level {level}")

        cli.add_command(frobnicate)


def test_register_commands_adds_a_working_documented_command() -> None:
    pm = plugin_manager()
    pm.register(_ExtraCommands(), name="test-docs-extra-commands")
    try:
        text = reference.cli_reference()
        result = CliRunner().invoke(cli, ["frobnicate", "--level", "3"])
    finally:
        pm.unregister(name="test-docs-extra-commands")
    assert "### evidence frobnicate\n" in text
    assert "Frobnicate the evidence (a test command)." in text
    assert "- `--level N`: How hard to frobnicate." in text
    assert result.exit_code == 0, result.output
    assert result.output == "frobnicated at level 3\n"
    assert "evidence frobnicate" not in reference.cli_reference()


def test_event_catalogue_lists_every_catalogued_topic_with_fields() -> None:
    text = reference.event_catalogue()
    catalogued = [cls for cls in TOPICS.values() if cls.__module__ in catalogue.EVENT_MODULES]
    assert catalogued
    for cls in catalogued:
        assert f"### {cls.TOPIC}\n\nClass version {cls.CLASS_VERSION}" in text
        prefix = cls.TOPIC.split(".", 1)[0]
        assert f"## {prefix}\n" in text
    assert "- `display_name`: `str`" in text  # a field of Inspection.MemberJoined, with its type
    assert "Class version 2 (upcasts v1→v2)" in text


def test_event_catalogue_ignores_events_outside_the_catalogue() -> None:
    class Probe(Event, frozen=True, kw_only=True):
        """Declared by a test; not part of the product."""

        TOPIC = "DocsProbe.Happened"
        detail: str

    try:
        probe = Probe(
            originator_id=uuid.uuid4(), originator_version=1, timestamp=now(), actor="a", role=Role.LEAD, detail="x"
        )
        assert TOPICS[probe.TOPIC] is Probe
        assert "DocsProbe" not in reference.event_catalogue()
    finally:
        del TOPICS["DocsProbe.Happened"]


_DECLARED = re.compile(r'^\s+TOPIC(?:: ClassVar\[str\])? = "([^"]+)"', re.MULTILINE)


def test_every_declared_event_module_is_in_the_catalogue() -> None:
    """An event class in ledger/ or plugins/ whose module is not catalogued could not be decoded or documented."""
    missing = []
    for folder in ("ledger", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            if _DECLARED.search(path.read_text(encoding="utf-8")):
                module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                if module not in catalogue.EVENT_MODULES:
                    missing.append(module)
    assert not missing, f"Add {missing} to ledger.catalogue.EVENT_MODULES so their events are catalogued."
