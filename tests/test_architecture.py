"""The layering holds: ``ledger/`` imports none of ``cli``, ``plugins`` or ``projections``, and an append from
the command line loads neither SQLAlchemy nor rich (they belong to the read side and to reports).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import CLI

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("cli", "plugins", "projections")
LEDGER_FILES = sorted((ROOT / "ledger").rglob("*.py"))


def _forbidden(name: str) -> bool:
    return name.split(".")[0] in FORBIDDEN


def forbidden_imports(source: str) -> list[str]:
    """Imports of the outer layers: ``import x``, ``from x import``, and import_module/__import__("x...")."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _forbidden(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and _forbidden(node.module):
            found.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and _forbidden(first.value)
            ):
                found.append(first.value)
    return found


def test_the_checker_sees_every_form_of_import() -> None:
    source = (
        "import cli.main\nfrom projections import ready\nimport os, plugins.frameworks as f\n"
        "import importlib\nimportlib.import_module('cli.log')\n__import__('projections.base')\n"
        "from . import sibling\nfrom ledger import events\nimport clinic\n"
    )
    assert sorted(forbidden_imports(source)) == [
        "cli.log", "cli.main", "plugins.frameworks", "projections", "projections.base"
    ]


def test_ledger_files_were_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in LEDGER_FILES}
    assert {"ledger/application.py", "ledger/events.py", "ledger/testing/backends.py"} <= names


@pytest.mark.parametrize("path", LEDGER_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_ledger_does_not_import_outer_layers(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []


def test_importing_the_append_path_loads_no_sqlalchemy_or_rich() -> None:
    code = (
        "import sys, cli.main, cli.inspection, ledger.inspection; "
        "print('sqlalchemy' in sys.modules, 'rich' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_member_add_loads_no_sqlalchemy_or_rich(team: CLI) -> None:
    code = (
        "import sys\nfrom cli.main import main\n"
        "main(['member', 'add', 'dave', '--role', 'moderator'])\n"
        "print('loaded', 'sqlalchemy' in sys.modules, 'rich' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=team.cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "loaded False False"
    assert "dave joined barnet-2017" in done.stdout
