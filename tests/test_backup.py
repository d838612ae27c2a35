"""`snowbot backup` while the bot writes, and `snowbot restore` that refuses what it cannot use."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from snowbot.app.wiring import open_service
from snowbot.service import Snowbot
from snowbot.settings.config_file import parse_config
from storage.migrations import LATEST
from tests.harness import STATION, person, run_cli


async def _bot(workdir: Path) -> Snowbot:
    config = parse_config(
        {"storage": {"database": "city.db"}, "access": {"enrolment": "open"}}, base_dir=workdir
    )
    bot = await open_service(config)
    await bot.import_streets(workdir / "city.csv")
    return bot


def _turnout(workdir: Path) -> int:
    done = run_cli(workdir, "tally", "--json")
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["person_times"])


async def test_a_backup_taken_while_the_bot_writes_is_consistent(workdir: Path) -> None:
    bot = await _bot(workdir)
    try:
        for uid in range(10, 15):
            await bot.check_in(await person(bot, uid), *STATION)
        taken = run_cli(workdir, "backup", "copy.db")
        assert taken.returncode == 0, taken.stderr
        await bot.check_in(await person(bot, 20), *STATION)  # after the copy
    finally:
        await bot.close()
    copy = sqlite3.connect(workdir / "copy.db")
    assert copy.execute("SELECT COUNT(*) FROM shifts").fetchone()[0] == 5
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    again = run_cli(workdir, "backup", "copy.db")
    assert again.returncode != 0 and "already exists" in again.stderr

    # restore it: the database is as it was at the copy, and the one replaced is kept
    assert _turnout(workdir) == 6
    restored = run_cli(workdir, "restore", "copy.db")
    assert restored.returncode == 0, restored.stderr
    assert "5 person-times" in restored.stdout and "before-restore" in restored.stdout
    assert _turnout(workdir) == 5
    assert list(workdir.glob("city.db.before-restore-*"))


async def test_restore_refuses_what_is_not_a_usable_snowbot_database(workdir: Path) -> None:
    bot = await _bot(workdir)
    try:
        await bot.check_in(await person(bot, 10), *STATION)
    finally:
        await bot.close()
    (workdir / "notes.txt").write_text("not a database", "utf-8")
    other = sqlite3.connect(workdir / "other.db")
    other.execute("CREATE TABLE things (x)")
    other.close()
    assert run_cli(workdir, "backup", "newer.db").returncode == 0
    newer = sqlite3.connect(workdir / "newer.db")
    newer.execute("INSERT INTO schema_version (version) VALUES (?)", (LATEST + 1,))
    newer.commit()
    newer.close()
    for name, reason in (
        ("notes.txt", "not an SQLite database"),
        ("other.db", "not a snowbot database"),
        ("newer.db", f"schema version {LATEST + 1}"),
        ("missing.db", "cannot be read"),
    ):
        refused = run_cli(workdir, "restore", name)
        assert refused.returncode != 0, name
        assert reason in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert _turnout(workdir) == 1  # nothing changed
    assert not list(workdir.glob("city.db.before-restore-*"))
