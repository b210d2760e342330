"""The user guide is executable: its shell blocks run, in order, as one script, and every command succeeds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"


def guide_script() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)
    return "set -euo pipefail\n" + "\n".join(blocks)


def test_the_guide_runs_from_start_to_finish(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", guide_script()], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"the guide stopped:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    assert (tmp_path / "overall.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "Verified" in done.stdout
    assert "matches: nothing it covers was truncated or rewritten" in done.stdout


def test_the_guide_shows_no_id_it_did_not_capture() -> None:
    """Ids change from run to run, so the guide must capture them rather than print made-up ones."""
    script = guide_script()
    assert not re.search(r"\b[0-9a-f]{8}\b", script), "use a captured variable instead of a literal id"
