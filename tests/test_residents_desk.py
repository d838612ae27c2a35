"""Residents' reports as the dispatcher's desk and the residents meet them, through the real
bot (issue 26): `/reports` puts the reports with the most reporters first, then the oldest;
a report near a street already cleared starts a report of its own, whose resident hears
back when it is cleared in turn."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import (
    CADRE,
    STATION,
    FakeClock,
    bot_config,
    invite_only,
    no_errors,
    running_bot,
    said,
    stand_in,
)
from tests.test_residents_e2e import AUNTIE, NEAR_STATION, NORTH, VISITOR, _north_desk, _one

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

NEIGHBOUR = SimUser(72, "Neighbour Chen", "en")
LATE = SimUser(73, "Late Resident", "en")


def _north(k: int) -> tuple[float, float]:
    """A spot 330 m × k north of the station: each a report of its own (150 m apart)."""
    return STATION[0] + 0.003 * k, STATION[1]


async def test_reports_with_the_most_reporters_come_first_then_the_oldest(
    config: Config, city_csv: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        stand_in() as api,
        running_bot(bot_config(invite_only(config), api, city_csv), clock=clock),
    ):
        await _north_desk(api)
        # #R1 first, by one; #R2 later, by two; #R3 last, by one
        for who, k, ref in ((AUNTIE, 0, "#R1"), (VISITOR, 1, "#R2"), (NEIGHBOUR, 1, "#R2")):
            await api.ask(who, "/report")
            assert ref in (await api.locate(who, *_north(k))).text
            clock.advance(60)
        await api.ask(LATE, "/report")
        assert "#R3" in (await api.locate(LATE, *_north(2))).text

        listed = await api.ask(NORTH, "/reports")
        assert re.findall(r"#R\d+", listed.text)[:3] == ["#R2", "#R1", "#R3"], listed.text
        assert "#R2 " in listed.text and "reported by 2" in listed.text
        no_errors(caplog, api)


async def test_a_report_beside_a_cleared_street_is_new_and_its_resident_hears_back(
    config: Config, city_csv: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        stand_in() as api,
        running_bot(bot_config(invite_only(config), api, city_csv), clock=clock),
    ):
        await _north_desk(api)
        await api.ask(AUNTIE, "/report")
        assert "#R1" in (await api.locate(AUNTIE, *STATION)).text
        first = await _one(api, NORTH.id, "Resident's report #R1:")
        await api.click(NORTH, first, "Make task")
        await api.locate(CADRE, *STATION)
        assert "joined task #1" in (await api.ask(CADRE, "/accept 1")).text
        clock.advance(40 * 60)
        assert "#1" in (await api.ask(CADRE, "/done 1")).text
        zh_cleared = await _one(api, AUNTIE.id, "清扫完毕")

        # snow again, 55 m away, an hour later: a new report, not the cleared one's
        clock.advance(3600)
        await api.ask(VISITOR, "/report")
        made = await api.locate(VISITOR, *NEAR_STATION)
        assert made.text.startswith(
            said("residents.made", ref="#R2", street="Station Road", district="North")
        ), made.text
        second = await _one(api, NORTH.id, "Resident's report #R2:")
        await api.click(NORTH, second, "Make task")
        assert "joined task #2" in (await api.ask(CADRE, "/accept 2")).text
        clock.advance(30 * 60)
        assert "#2" in (await api.ask(CADRE, "/done 2")).text
        cleared = await _one(api, VISITOR.id, "was cleared")
        assert "#R2" in cleared.text and "#2" in cleared.text
        # the first resident heard of her own report's task once, and of nobody else's
        assert [s.text for s in api.sent[AUNTIE.id]].count(zh_cleared.text) == 1
        assert not [s for s in api.sent[AUNTIE.id] if "#2" in s.text]
        no_errors(caplog, api)
