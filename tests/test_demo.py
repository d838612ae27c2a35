"""`snowbot demo` runs offline, end to end, and its numbers add up: checked here against a
recount of what the storm left in its database, not against the demo's own word."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from handlers.app import PollingBot
from snowbot.app.wiring import start_bot
from snowbot.settings.config import Config
from snowbot.tools import demo
from tests.harness import recount


def test_the_small_demo_runs_offline_and_its_printed_numbers_add_up(tmp_path: Path) -> None:
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
    # it stops quietly: PTB's last getUpdates at shutdown finds its connection free
    assert "did not confirm" not in result.stderr and "Traceback" not in result.stderr
    out = result.stdout
    # the first lines (after the overview's link) name the engine and the database (SPEC §12)
    named = [line for line in out.splitlines()[:2] if line.startswith("database: SQLite ")]
    assert named and "demo.db" in named[0], out.splitlines()[:2]
    assert "/newtask" in out and "/checkin" in out and "/accept" in out and "/done" in out
    assert not list(tmp_path.glob("*.db")), "the demo's database is thrown away"
    # places (issue 16): a leader splits a team; a checkout sends a task back to the pool
    assert "of your people take places" in out and "Your places on #" in out
    assert re.search(r"🔁 任务 #\d+（", out)
    # the JSON it prints, the chat tally it prints, and that tally's own lines agree
    totals = json.loads(next(line for line in out.splitlines() if line.startswith('{"person')))
    assert f"出动：{totals['person_times']} 人次" in out
    districts = re.findall(r"^• .+?：(\d+) 人次，正在值守 (\d+) 人，完成任务 (\d+) 个", out, re.M)
    assert len(districts) == 6
    assert sum(int(d[0]) for d in districts) == totals["person_times"] > 0
    assert sum(int(d[1]) for d in districts) == totals["on_duty"]
    assert sum(int(d[2]) for d in districts) == totals["tasks"]["done"] > 0
    posted = len(re.findall(r"^👤 .+: /newtask ", out, re.M))
    made = len(re.findall(r"^👤 .+ presses «Make task #R\d+» → .+#\d+", out, re.M))
    assert made >= 1  # a resident's report made into a task
    assert sum(totals["tasks"].values()) == posted + made
    assert "reports.csv" in out and "群众求助" in out
    # the demo shows /units (单位包保): the units' turnout and no unit's make its total
    units = re.findall(r"^ +\d+\. .+? — (\d+) 人次，正在值守 (\d+) 人", out, re.M)
    no_unit = re.search(r"无单位：(\d+) 人次，正在值守 (\d+) 人", out)
    together = re.search(r"合计：(\d+) 人次，正在值守 (\d+) 人", out)
    assert len(units) == 19 and no_unit and together, out[-3000:]
    assert sum(int(u[0]) for u in units) + int(no_unit[1]) == int(together[1]) > 0
    assert sum(int(u[1]) for u in units) + int(no_unit[2]) == int(together[2])


async def test_the_demos_tally_is_a_recount_of_what_its_storm_did(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(  # keep the storm's database to count it again
        demo.tempfile, "TemporaryDirectory", lambda **_: contextlib.nullcontext(str(tmp_path))
    )
    storm = await demo.play_storm(config, scale="small", quiet=True, start_bot=_unlimited())
    counted = recount(tmp_path / "demo.db")
    tally = storm.tally.as_json()
    assert {k: tally[k] for k in counted} == counted
    assert counted["person_times"] > counted["people"] > 0  # teams count their headcount
    assert f"出动：{counted['person_times']} 人次" in storm.chat_tally


def _unlimited() -> Callable[[Config, Callable[[], float]], object]:
    async def start(demo_config: Config, clock: Callable[[], float]) -> PollingBot:
        limiter = AIORateLimiter(overall_max_rate=0, group_max_rate=0)
        return await start_bot(demo_config, clock, rate_limiter=limiter, timeout=1, scheduled=False)

    return start


async def test_the_seed_storm_ends_with_its_closing_report(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`snowbot demo --scale seed` ends as its six-day storm does: the coordinator closes it
    and the closing report arrives with its CSVs. The six days take minutes, so the small
    storm's day stands in for them here; the ending is the seed's own."""
    monkeypatch.setattr(demo, "seed_storm", demo.storms.small_storm)
    storm = await demo.play_storm(config, scale="seed", quiet=True, start_bot=_unlimited())
    tally = storm.tally.as_json()
    assert storm.closing.startswith("📋 应急响应总结：")
    assert f"全市累计出动{tally['person_times']}人次" in storm.closing
    assert f"共{tally['people']}人签到值守" in storm.closing
    assert "📎 shifts.csv" in storm.closing and "📎 tasks.csv" in storm.closing
