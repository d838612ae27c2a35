"""The overview's turnout over time, over HTTP beside the real bot (issue 26): a shift is
on duty in every hour it lasted, until the hour it ended, and counted in the person-times
of every hour from its start."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from tests.harness import CADRE, LEADER, RIVER, STATION, FakeClock
from tests.overview_harness import served, session

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

MINUTE, HOUR = 60, 3600


async def test_a_shift_is_on_duty_in_each_hour_it_lasted(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    clock.now = clock.now // HOUR * HOUR  # on the hour, in the city's time too (+08:00)
    start = clock.now
    async with served(config, city_csv, clock=clock) as s, session() as client:
        clock.advance(40 * MINUTE)  # 0:40: a team of three in North, one person in South
        await s.api.ask(LEADER, "/checkin 3")
        assert "headcount: 3" in (await s.api.locate(LEADER, *STATION)).text
        await s.api.locate(CADRE, *RIVER)
        clock.advance(2 * HOUR)  # 2:40: the team checks out; the South cadre stays
        assert "Checked out" in (await s.api.ask(LEADER, "/checkout")).text
        clock.advance(HOUR)  # 3:40
        async with client.get(s.url("/api/turnout")) as r:
            assert r.status == 200
            turnout = await r.json()
    tz = s.config.city.timezone
    assert turnout["hours"] == [
        datetime.fromtimestamp(start + h * HOUR, tz).strftime("%m-%d %H:%M") for h in range(4)
    ]
    north, south = (
        next(d for d in turnout["districts"] if d["district"] == name)
        for name in ("North", "South")
    )
    # on duty at the end of hours 0 and 1, gone by the end of hour 2 (it ended at 2:40)
    assert north == {"district": "North", "person_times": [3] * 4, "on_duty": [3, 3, 0, 0]}
    assert south == {"district": "South", "person_times": [1] * 4, "on_duty": [1] * 4}
