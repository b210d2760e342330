"""Shared fixtures: a fresh ledger on each backend, raw SQL around the ledger, and the ``evidence`` CLI.

``backend`` is parametrized over SQLite and PostgreSQL (127.0.0.1:5432, database ``test``; each test gets a
schema of its own, dropped afterwards). ``cli`` runs the command line in-process (fast) or, through
``cli.subprocess``, as a real process (to see exactly what a person sees: one line, no traceback).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import pytest

from ledger.application import Ledger
from ledger.testing import backends

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger URL on each backend in turn."""
    url = backends.fresh_url(request.param, tmp_path)
    yield url
    backends.discard(url)


@pytest.fixture
def url(backend: str) -> str:
    return backend


@pytest.fixture
def ledger(url: str) -> Iterator[Ledger]:
    """A newly created ledger at ``url``, closed afterwards."""
    created = Ledger(url, create=True)
    yield created
    created.close()


@pytest.fixture
def raw_sql() -> Callable[..., contextlib.AbstractContextManager[backends.RawSQL]]:
    """``with raw_sql(url) as raw:`` a plain connection with the append-only triggers bypassed (tampering)."""
    return backends.raw_sql


class Result(msgspec.Struct, frozen=True):
    """What one run of the command line did."""

    code: int
    out: str
    err: str

    def one_line_error(self) -> str:
        """The single stderr line of a refused command (asserting it failed, in one line, with no traceback)."""
        assert self.code != 0, f"expected a failure, got exit 0 with {self.out!r}"
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {self.err!r}"
        assert "Traceback" not in self.err
        return lines[0]

    def json(self) -> object:
        assert self.code == 0, self.err
        return msgspec.json.decode(self.out)


def _clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    return env | (extra or {})


class CLI:
    """The ``evidence`` command line, run in a temporary working directory with no EVIDENCE_* variables."""

    def __init__(self, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.cwd = cwd
        self._monkeypatch = monkeypatch

    def __call__(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        """Run ``cli.main.main(args)`` in this process, capturing stdout, stderr and the exit code."""
        from cli.main import main

        out, err = io.StringIO(), io.StringIO()
        with self._monkeypatch.context() as patch:
            patch.chdir(cwd or self.cwd)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    main(list(args))
                    code = 0
                except SystemExit as done:
                    code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        return Result(code=code, out=out.getvalue(), err=err.getvalue())

    def subprocess(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        """Run ``python -m cli.main ARGS`` as a separate process."""
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=cwd or self.cwd,
            env=_clean_env(env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(code=done.returncode, out=done.stdout, err=done.stderr)

    @property
    def url(self) -> str:
        """The URL of the SQLite ledger that ``evidence init`` makes in the working directory."""
        return f"sqlite:///{(self.cwd / '.evidence' / 'ledger.db').resolve()}"

    def count(self, url: str | None = None) -> int:
        """The number of events in the ledger (its last position)."""
        ledger = Ledger(url or self.url)
        try:
            return ledger.last_position()
        finally:
            ledger.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CLI:
    for key in [k for k in os.environ if k.startswith("EVIDENCE_")]:
        monkeypatch.delenv(key)
    work = tmp_path / "work"
    work.mkdir()
    return CLI(work, monkeypatch)


@pytest.fixture
def team(cli: CLI) -> CLI:
    """A ledger in the working directory: alice leads barnet-2017, bob is an inspector, carol a panel member."""
    for args in (
        ("init", "--user", "alice"),
        ("inspection", "open", "barnet-2017", "--authority", "London Borough of Barnet", "--starts", "2017-01-09"),
        ("member", "add", "bob", "--role", "inspector", "--name", "Bob Inspector"),
        ("member", "add", "carol", "--role", "panel-member"),
    ):
        result = cli(*args)
        assert result.code == 0, (args, result.err)
    return cli
