"""`snowbot bench --postgres`: figures 1–3 on PostgreSQL run, write what they say, check
what they measure, and refuse a database that is not a scratch one. (Speed itself is for
the bench, not here: no ratio is asserted.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from snowbot.app.tool_starters import bench_kit
from snowbot.app.wiring import open_service
from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from snowbot.settings.errors import SnowbotError
from snowbot.tools.bench.common import QUICK
from snowbot.tools.bench.database import recount_summary, storm_rows, tally_summary
from snowbot.tools.bench.postgres import (
    ASYNCPG_USERS,
    PLAIN_USERS,
    figure_checkins_postgres,
    figure_tally_postgres,
    figure_writes_postgres,
    fresh,
    refuse_unless_scratch,
    seed_tally_postgres,
)
from storage.postgres import bulk
from tests.engines import raw


async def test_figure_1_on_postgresql_commits_every_check_in(scratch: str, tmp_path: Path) -> None:
    await refuse_unless_scratch(scratch)
    base = parse_config({}, base_dir=tmp_path)  # enrolment by invitation: the bench opens it
    figure = await figure_checkins_postgres(bench_kit(), base, QUICK, tmp_path, scratch)
    assert figure.key == "checkin_pipeline_postgres" and figure.ratio is not None
    warm = max(10, QUICK.checkins // 20)
    assert f"check-ins committed: {warm + QUICK.checkins} of {warm + QUICK.checkins}" in (
        figure.note
    )
    with raw(scratch) as db:
        (shifts,) = db.execute("SELECT COUNT(*) FROM shifts").fetchone()
        (counted,) = db.execute("SELECT SUM(person_times) FROM district_counters").fetchone()
    assert shifts == counted == warm + QUICK.checkins
    assert not list(tmp_path.glob("**/*.db"))  # the bot ran on PostgreSQL, not on a file


async def test_figure_2_on_postgresql_commits_every_check_in_and_both_baselines(
    scratch: str,
) -> None:
    await refuse_unless_scratch(scratch)
    ours, drivers = await figure_writes_postgres(scratch, QUICK)
    assert ours.key == "committed_writes_postgres" and ours.ratio is not None
    assert ours.baseline_name.startswith("plain asyncpg")
    assert drivers.key == "drivers_postgres" and drivers.ratio is not None
    total = QUICK.writers * (QUICK.writes // QUICK.writers)
    assert f"check-ins committed: {total} of {total}" in ours.note
    with raw(scratch) as db:

        def count(low: int, high: int) -> int:
            sql = "SELECT COUNT(*) FROM shifts WHERE user_id >= ? AND user_id < ?"
            return int(db.execute(sql, (low, high)).fetchone()[0])

        (counted,) = db.execute("SELECT SUM(person_times) FROM district_counters").fetchone()
        assert count(0, PLAIN_USERS) == total and counted == total  # snowbot's counters kept up
        assert count(PLAIN_USERS, ASYNCPG_USERS) == total  # plain psycopg
        assert count(ASYNCPG_USERS, 2 * ASYNCPG_USERS) == total  # plain asyncpg
    with pytest.raises(SnowbotError, match="not an empty database"):
        await refuse_unless_scratch(scratch)


async def test_figure_3_on_postgresql_seeds_the_storm_and_checks_the_tally(
    scratch: str, config: Config
) -> None:
    await refuse_unless_scratch(scratch)
    figure = await figure_tally_postgres(bench_kit(), config, QUICK, scratch)
    assert figure.key == "tally_at_scale_postgres" and figure.ratio is not None
    assert "equal to the recount: yes" in figure.note
    with raw(scratch) as db:
        (shifts,) = db.execute("SELECT COUNT(*) FROM shifts").fetchone()
        (units,) = db.execute("SELECT COUNT(*) FROM units").fetchone()
    assert shifts == QUICK.shifts and units == QUICK.streets // 5


async def test_the_seeded_storm_is_the_same_on_both_engines_and_the_tally_its_recount(
    scratch: str, tmp_path: Path, config: Config
) -> None:
    from snowbot.tools.bench import full_recount, seed_tally_database
    from storage import open_store

    sizes = replace(QUICK, shifts=3000, users=500, tasks=200, streets=150)
    path = tmp_path / "seeded.db"
    await (await open_store(path)).close()
    seed_tally_database(path, sizes)
    await fresh(scratch)
    rows = storm_rows(sizes)
    seed_tally_postgres(scratch, rows)
    on_postgres = recount_summary(bulk.recount_url(scratch, rows.incident_id))
    assert on_postgres == full_recount(path, rows.incident_id)
    service = await open_service(replace(config, database_url=scratch))
    try:
        assert tally_summary((await service.tally()).as_json()) == on_postgres
    finally:
        await service.close()


async def test_a_database_with_rows_or_out_of_reach_is_refused_in_one_line(
    scratch: str,
) -> None:
    await fresh(scratch)
    with raw(scratch) as db:
        db.execute("INSERT INTO users (id, name, registered, created_at) VALUES (1, 'x', 1, 0)")
    with pytest.raises(SnowbotError, match=r"not an empty database \(users hold rows\)"):
        await refuse_unless_scratch(scratch)
    secret = scratch.replace("postgres@", "postgres:hunter2@").rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(SnowbotError) as refused:
        await refuse_unless_scratch(secret)
    assert "hunter2" not in str(refused.value) and "\n" not in str(refused.value)
