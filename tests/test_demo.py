"""`snowbot demo` runs offline, end to end, and its numbers add up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_small_demo_runs_and_agrees(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "snowbot", "demo", "--config", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "config file not found" in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "snowbot", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "/newtask" in out and "/checkin" in out and "/accept" in out and "/done" in out
    assert "chat /tally and `snowbot tally --json` agree: yes" in out
    assert not list(tmp_path.glob("*.db")), "the demo's database is thrown away"
