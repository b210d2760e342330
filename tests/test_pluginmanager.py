"""The plugin manager: built-ins first, third parties from entry points, unique names, and the switches."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ledger import pluginmanager
from ledger.contracts import LanguageFinding
from ledger.hookspecs import hookimpl
from ledger.pluginmanager import DEFAULT_PLUGINS, PluginError, collect, describe, new_plugin_manager

PLUGIN_SOURCE = '''
from ledger.contracts import LanguageFinding
from ledger.hookspecs import hookimpl


class Shouting:
    name = "shouting"
    description = "Flags text written in capitals."

    def find(self, text):
        return [LanguageFinding(rule="shouting", line=1, column=1, offset=0, length=len(text), phrase=text,
                                message="Capitals read as shouting.", suggestion="Use sentence case.")
                for _ in [0] if text.isupper()]


@hookimpl
def register_language_rules(register):
    register(Shouting())
'''


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A third-party plugin distribution installed on sys.path, declaring the ``evidence_ledger`` entry point."""
    (tmp_path / "shouting_plugin.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    info = tmp_path / "evidence_shouting-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evidence-shouting\nVersion: 1.2.3\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[evidence_ledger]\nshouting = shouting_plugin\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("EVIDENCE_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("EVIDENCE_TRACE_PLUGINS", raising=False)
    yield tmp_path
    sys.modules.pop("shouting_plugin", None)


class Rule:
    def __init__(self, name: str) -> None:
        self.name, self.description = name, "a test rule"

    def find(self, text: str) -> list[LanguageFinding]:
        return []


def test_built_ins_come_first_in_the_declared_order() -> None:
    pm = new_plugin_manager(load_entry_points=False)
    assert [name for name, _ in pm.list_name_plugin()] == list(DEFAULT_PLUGINS)


def test_a_duplicate_name_is_a_loud_error_naming_both_plugins() -> None:
    class Copycat:
        @hookimpl
        def register_language_rules(self, register):  # noqa: ANN001, ANN201
            register(Rule("ensure"))

    pm = new_plugin_manager(load_entry_points=False)
    pm.register(Copycat(), name="copycat")
    with pytest.raises(PluginError, match=r"copycat.*'ensure'.*plugins\.language"):
        collect(pm, "register_language_rules")


def test_a_third_party_may_replace_a_built_in_on_purpose() -> None:
    class Better:
        @hookimpl
        def register_language_rules(self, register):  # noqa: ANN001, ANN201
            register(Rule("ensure"), replace=True)

    pm = new_plugin_manager(load_entry_points=False)
    pm.register(Better(), name="better-ensure")
    rules = collect(pm, "register_language_rules")
    assert isinstance(rules["ensure"], Rule)
    assert rules.suppliers["ensure"] == "better-ensure"
    assert rules.suppliers["absolute"] == "plugins.language"


def test_an_implementation_of_no_declared_hook_is_refused(installed: Path) -> None:
    (installed / "shouting_plugin.py").write_text(
        PLUGIN_SOURCE + "\n\n@hookimpl\ndef register_widgets(register):\n    pass\n", encoding="utf-8"
    )
    with pytest.raises(PluginError, match="register_widgets"):
        new_plugin_manager()


def test_entry_point_plugins_load_after_the_built_ins(installed: Path) -> None:
    pm = new_plugin_manager()
    assert [name for name, _ in pm.list_name_plugin()] == [*DEFAULT_PLUGINS, "shouting"]
    rules = collect(pm, "register_language_rules")
    assert rules.suppliers["shouting"] == "shouting"
    assert [f.rule for f in rules["shouting"].find("ALL CAPS")] == ["shouting"]
    listed = describe(pm, include_builtins=False)
    assert [(p["name"], p["version"], p["registered"]) for p in listed] == [
        ("shouting", "1.2.3", {"language_rules": ["shouting"]})
    ]


@pytest.mark.parametrize(("setting", "loaded"), [("", False), ("other", False), ("shouting", True), ("x,shouting", True)])
def test_evidence_load_plugins_chooses_third_parties(
    installed: Path, monkeypatch: pytest.MonkeyPatch, setting: str, loaded: bool
) -> None:
    monkeypatch.setenv("EVIDENCE_LOAD_PLUGINS", setting)
    pm = new_plugin_manager()
    assert (pm.get_plugin("shouting") is not None) is loaded
    assert pm.get_plugin("plugins.language") is not None  # built-ins always load


def test_evidence_trace_plugins_writes_every_hook_call(
    installed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVIDENCE_TRACE_PLUGINS", "1")
    pm = new_plugin_manager()
    pm.hook.guess_importer(filename="notes.txt", head=b"")
    collect(pm, "register_language_rules")
    err = capsys.readouterr().err
    assert "guess_importer" in err
    assert "register_language_rules -> shouting" in err


def test_the_plugins_command_lists_third_parties_and_with_all_the_built_ins(
    installed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    monkeypatch.setattr(pluginmanager, "plugin_manager", lambda: new_plugin_manager())
    pluginmanager._CACHE.clear()  # noqa: SLF001 - registries are cached per plugin manager
    main(["plugins"])
    assert [p["name"] for p in json.loads(capsys.readouterr().out)] == ["shouting"]
    main(["plugins", "--all"])
    listed = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in listed] == [*sorted(DEFAULT_PLUGINS), "shouting"]
    assert all(p["builtin"] for p in listed[:-1]) and not listed[-1]["builtin"]
