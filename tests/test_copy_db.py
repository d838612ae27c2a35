"""`snowbot copy-db FROM TO`: SQLite to PostgreSQL and back, as an operator runs it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from snowbot.domain.roles import Role
from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from snowbot.settings.redact import hide_password
from tests.engines import Databases, need_postgres, raw
from tests.harness import RIVER, STATION, FakeClock, opened_bot, person, recount, run_cli


async def _a_storm(config: Config, clock: FakeClock, city_csv: Path) -> None:
    """Shifts, a team, places, a done task and an open one, a message sent and one waiting."""
    async with opened_bot(config, clock, city_csv) as bot:
        boss = await person(bot, 1)
        await bot.grant(boss, 50, Role.DISPATCHER, None)
        dispatcher = await person(bot, 50)
        done = await bot.post_task(dispatcher, ["Station", "Road", "2"])
        await bot.post_task(dispatcher, ["River", "Road", "3", "ice", "here"])
        leader = await person(bot, 10)
        await bot.ask_check_in(leader, 6)
        await bot.check_in(leader, *STATION)
        await bot.check_in(await person(bot, 11), *RIVER)
        task_id = done.task.id  # type: ignore[union-attr]
        await bot.accept(leader, task_id)
        await bot.complete(leader, task_id)
        clock.advance(600)
        await bot.check_out(await person(bot, 11))


def _tally(tmp_path: Path, database: Path | str) -> dict[str, object]:
    (tmp_path / "config.toml").write_text(f'[storage]\ndatabase = "{database}"\n', "utf-8")
    shown = run_cli(tmp_path, "tally", "--json")
    assert shown.returncode == 0, shown.stderr
    tally: dict[str, object] = json.loads(shown.stdout)
    return tally


async def test_copy_db_to_postgresql_and_back_keeps_every_count(
    tmp_path: Path, config: Config, clock: FakeClock, city_csv: Path
) -> None:
    need_postgres()
    databases = Databases("postgres", tmp_path)
    try:
        source = tmp_path / "storm.db"
        await _a_storm(replace(config, database=source, database_url=""), clock, city_csv)
        server = databases.new()
        assert isinstance(server, str)
        (tmp_path / "config.toml").write_text("", "utf-8")
        there = run_cli(tmp_path, "copy-db", str(source), server)
        assert there.returncode == 0, there.stderr
        assert "both tallies agree" in there.stdout
        back = tmp_path / "back.db"
        again = run_cli(tmp_path, "copy-db", server, str(back))
        assert again.returncode == 0, again.stderr
        tallies = [_tally(tmp_path, where) for where in (source, server, back)]
        assert tallies[0] == tallies[1] == tallies[2]
        assert tallies[0]["person_times"] == 7 and tallies[0]["on_duty"] == 6
        assert recount(source) == recount(server) == recount(back)
        # ids go on after the copied ones: the next task is #3 on both sides
        for where in (source, server):
            with raw(where) as db:
                if isinstance(where, Path):
                    db.execute("PRAGMA foreign_keys = ON")
                made = db.execute(
                    "INSERT INTO tasks (incident_id, street_id, needed, created_by, created_at) "
                    "SELECT incident_id, street_id, 1, 50, 9.0 FROM tasks LIMIT 1 RETURNING id"
                ).fetchone()
                assert made[0] == 3
                if isinstance(where, Path):
                    db.rollback()
    finally:
        databases.drop()


async def test_copy_db_refuses_a_target_that_is_not_empty(
    tmp_path: Path, config: Config, clock: FakeClock, city_csv: Path
) -> None:
    source = tmp_path / "storm.db"
    await _a_storm(replace(config, database=source, database_url=""), clock, city_csv)
    other = tmp_path / "other.db"
    await _a_storm(replace(config, database=other, database_url=""), clock, city_csv)
    before = recount(other)
    (tmp_path / "config.toml").write_text("", "utf-8")
    refused = run_cli(tmp_path, "copy-db", str(source), str(other))
    assert refused.returncode != 0
    assert refused.stderr.count("\n") == 1 and "not empty" in refused.stderr
    assert recount(other) == before
    missing = run_cli(tmp_path, "copy-db", str(tmp_path / "nope.db"), str(tmp_path / "x.db"))
    assert missing.returncode != 0 and "no database here" in missing.stderr
    assert not (tmp_path / "x.db").exists()


def test_copy_db_never_prints_a_password(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("", "utf-8")
    (tmp_path / "a.db").write_bytes(b"")
    failed = run_cli(
        tmp_path, "copy-db", str(tmp_path / "a.db"), "postgresql://snow:s3cret-pw@127.0.0.1:1/x"
    )
    assert failed.returncode != 0 and failed.stderr.count("\n") == 1
    assert "s3cret-pw" not in failed.stderr + failed.stdout and "snow:***@" in failed.stderr


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_on_postgresql_point_to_pg_dump(tmp_path: Path, command: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\ndatabase = "postgresql://snow:s3cret-pw@127.0.0.1:1/x"\n', "utf-8"
    )
    config.chmod(0o600)  # a password in a file others can read is warned about (test_security)
    result = run_cli(tmp_path, command, str(tmp_path / "copy.dump"))
    assert result.returncode != 0 and result.stderr.count("\n") == 1
    assert ("pg_dump" if command == "backup" else "pg_restore") in result.stderr
    assert "s3cret-pw" not in result.stderr


def test_a_postgresql_url_in_the_config_or_the_environment_names_the_database(
    tmp_path: Path,
) -> None:
    url = "postgresql://snow:s3cret-pw@db.example/snow"
    in_file = parse_config({"storage": {"database": url}}, base_dir=tmp_path)
    assert (
        in_file.address == url and in_file.database_name == "postgresql://snow:***@db.example/snow"
    )
    by_env = parse_config(
        {"storage": {"database": "city.db"}}, base_dir=tmp_path, env={"SNOWBOT_DATABASE": url}
    )
    assert by_env.address == url
    assert "s3cret-pw" not in hide_password(f"{url}?sslmode=require")
    assert "other-pw" not in hide_password("postgresql://db/snow?password=other-pw")
    plain = parse_config({"storage": {"database": "city.db"}}, base_dir=tmp_path)
    assert plain.address == tmp_path / "city.db" and plain.database_url == ""
