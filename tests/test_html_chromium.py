"""The HTML report and the HTML replay open in headless Chromium with no console message, and render.

Chromium prints every console message (errors, uncaught exceptions, failed loads) as a ``CONSOLE`` line on
standard error with ``--enable-logging=stderr``; the first test plants a script error in a throwaway page to
prove the detection works. The pages hold no script at all, so any console line is a failure. Chromium is
installed by .ci/run because tests/needs_chromium exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest
from test_reports import populate

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import CLI

CONSOLE = re.compile(r":CONSOLE[(:\]].*")
PNG = b"\x89PNG\r\n\x1a\n"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
    "--enable-logging=stderr", "--v=0",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Headless Chromium is not installed; run 'apt-get install -y chromium' (.ci/run does it).")


def run_chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )


def open_page(page: Path, work: Path) -> tuple[str, list[str]]:
    """The page's DOM after load, and the console lines Chromium logged while loading it."""
    done = run_chromium(page, work / "profile-dom", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, CONSOLE.findall(done.stderr)


def screenshot(page: Path, work: Path, name: str) -> Path:
    """A 1200x1600 screenshot of the page, saved in ``work``."""
    png = work / f"{name}.png"
    done = run_chromium(page, work / "profile-shot", f"--screenshot={png}", "--window-size=1200,1600")
    assert done.returncode == 0, done.stderr[-2000:]
    return png


def test_the_console_detection_sees_a_planted_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>broken</title></head><body>'
        "<p>planted</p><script>console.error('planted-console-error'); notDefinedAnywhere();</script>"
        "</body></html>",
        encoding="utf-8",
    )
    dom, console = open_page(page, tmp_path)
    assert "<p>planted</p>" in dom
    assert any("planted-console-error" in line for line in console), console
    assert any("notDefinedAnywhere" in line for line in console), console


@pytest.fixture
def pages(team: CLI, tmp_path: Path) -> dict[str, Path]:
    """The draft report, moderation record, feedback comparison and a replay, each as an HTML file."""
    populate(team.url)
    out = {}
    for kind in ("draft", "moderation", "feedback"):
        out[kind] = tmp_path / f"{kind}.html"
        assert team("report", kind, "--out", str(out[kind])).code == 0
    out["replay"] = tmp_path / "replay.html"
    done = team("replay", "help-protection", "--format", "html", "-o", str(out["replay"]))
    assert done.code == 0, done.err
    return out


def test_the_html_report_opens_cleanly_and_renders(pages: dict[str, Path], tmp_path: Path) -> None:
    for kind in ("draft", "moderation", "feedback"):
        dom, console = open_page(pages[kind], tmp_path)
        assert console == [], (kind, console)
        assert '<html lang="en-GB">' in dom and "<h1>" in dom and "<main>" in dom
        shot = screenshot(pages[kind], tmp_path, kind)
        data = shot.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    dom, _ = open_page(pages["draft"], tmp_path)
    assert "<h1>Draft report: London Borough of Barnet</h1>" in dom
    assert dom.count('role="img"') >= 4 and "<blockquote>" in dom and "<caption>" in dom
    assert "The referral was screened within one working day" in dom


def test_the_html_replay_opens_cleanly_and_renders(pages: dict[str, Path], tmp_path: Path) -> None:
    dom, console = open_page(pages["replay"], tmp_path)
    assert console == [], console
    assert "<html lang=" in dom and "<h1" in dom
    assert "help-protection" in dom or "help and protection" in dom.lower()
    data = screenshot(pages["replay"], tmp_path, "replay").read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000
