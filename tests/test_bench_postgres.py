"""`snowbot bench --postgres URL`: figure 2 on PostgreSQL runs, writes what it says, and
refuses a database that is not a scratch one. (Speed itself is for the bench, not here.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.bench.common import QUICK
from snowbot.bench.postgres import figure_writes_postgres
from snowbot.errors import SnowbotError
from tests.engines import Databases, need_postgres, raw


async def test_figure_2_on_postgresql_commits_every_check_in(tmp_path: Path) -> None:
    need_postgres()
    databases = Databases("postgres", tmp_path)
    try:
        url = databases.new()
        assert isinstance(url, str)
        figure = await figure_writes_postgres(url, QUICK)
        assert figure.key == "committed_writes_postgres" and figure.ratio is not None
        total = QUICK.writers * (QUICK.writes // QUICK.writers)
        with raw(url) as db:
            (ours,) = db.execute("SELECT COUNT(*) FROM shifts WHERE user_id < 10000000").fetchone()
            (plain,) = db.execute(
                "SELECT COUNT(*) FROM shifts WHERE user_id >= 10000000"
            ).fetchone()
            (counted,) = db.execute("SELECT SUM(person_times) FROM district_counters").fetchone()
        assert ours == plain == total and counted == total  # snowbot's counters kept up
        with pytest.raises(SnowbotError, match="not an empty database"):
            await figure_writes_postgres(url, QUICK)
    finally:
        databases.drop()
