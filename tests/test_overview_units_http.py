"""The overview's units (单位包保) and residents' reports (群众求助) over HTTP: each street
carries its unit for the map's filter, the feed carries the units' and reports' figures
within 2 s, and /api/reports gives the median wait that the tally JSON has not, while
/api/tally stays `snowbot tally --json` byte for byte."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import (
    CADRE,
    COORD,
    LEADER,
    NORTH_DISPATCHER,
    RIVER,
    STATION,
    FakeClock,
    no_errors,
    run_cli,
)
from tests.overview_harness import read_event, served, session
from tests.test_units import UNIT_CITY

VISITOR = SimUser(71, "Visitor Brown", "en")  # a resident: never a cadre, never named


@pytest.fixture
def unit_city(tmp_path: Path) -> Path:
    """The small city with units responsible for three of its streets (单位包保)."""
    path = tmp_path / "units.csv"
    path.write_text(UNIT_CITY, "utf-8")
    return path


async def test_each_street_carries_its_unit_for_the_unit_filter(
    config: Config, unit_city: Path
) -> None:
    async with (
        served(config, unit_city) as s,
        session() as client,
        client.get(s.url("/api/streets")) as r,
    ):
        features = (await r.json(content_type=None))["features"]
    units = {f"{f['properties']['district']}/{f['properties']['street']}": f for f in features}
    assert {k: f["properties"]["unit"] for k, f in units.items()} == {
        "North/Station Road": "Roads Bureau",
        "North/Station Road East": None,
        "North/Market Street": "Roads Bureau",
        "North/School Lane": None,
        "South/River Road": "Water Company",
        "South/Mill Street": None,
        "South/Market Street": None,
    }
    assert all(list(f["properties"]) == ["district", "street", "unit", "state"] for f in features)


async def _until(events: aiohttp.ClientResponse, check: Any) -> dict[str, Any]:
    """The first event, each within 2 s of the one before, whose tally passes `check`."""
    tally: dict[str, Any] = await asyncio.wait_for(read_event(events), 2.0)
    while not check(tally):  # an event of an earlier part of the change
        tally = await asyncio.wait_for(read_event(events), 2.0)
    return tally


def _unit(tally: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(u for u in tally["units"] if u["unit"] == name)
    return found


async def test_units_and_residents_reports_live_with_the_median_wait_beside_the_tally(
    config: Config,
    unit_city: Path,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    north = NORTH_DISPATCHER
    async with served(config, unit_city, clock=clock) as s, session() as client:
        api = s.api
        await api.ask(COORD, "/start")
        await api.ask(COORD, f"/grant {north.id} dispatcher North")
        await api.ask(north, "/start")
        async with client.get(s.url("/api/reports")) as r:
            assert r.status == 200
            assert await r.json() == {
                "open": 0,
                "tasked": 0,
                "resolved": 0,
                "dismissed": 0,
                "median_wait": None,
            }
        async with client.get(s.url("/api/events")) as events:
            await read_event(events)
            # a cadre of a unit checks in: the unit's row moves, within 2 s
            await api.ask(CADRE, "/unit Roads Bureau")
            await api.locate(CADRE, *STATION)
            tally = await _until(events, lambda t: _unit(t, "Roads Bureau")["on_duty"] == 1)
            assert _unit(tally, "Roads Bureau") == {
                "unit": "Roads Bureau",
                "person_times": 1,
                "on_duty": 1,
                "people": 1,
                "streets_total": 2,
                "streets_unserved": 2,
            }
            await api.locate(LEADER, *RIVER)  # no unit
            tally = await _until(events, lambda t: t["no_unit"]["on_duty"] == 1)
            # a resident reports: the open reports move, within 2 s
            await api.ask(VISITOR, "/report")
            await api.locate(VISITOR, *STATION)
            tally = await _until(events, lambda t: t["reports"]["open"] == 1)
        alarm = await api.wait_for(
            lambda: [m for m in api.sent[north.id] if "Resident's report #R1:" in m.text]
        )
        await api.click(north, alarm[0], "Make task")
        assert "joined task #1" in (await api.ask(CADRE, "/accept 1")).text
        clock.advance(40 * 60)
        assert "#1" in (await api.ask(CADRE, "/done 1")).text
        # a second report, 330 m away, dismissed
        await api.ask(VISITOR, "/report")
        await api.locate(VISITOR, STATION[0] + 0.003, STATION[1])
        second = await api.wait_for(
            lambda: [m for m in api.sent[north.id] if "Resident's report #R2:" in m.text]
        )
        await api.click(north, second[0], "Dismiss")
        async with client.get(s.url("/api/reports")) as r:
            assert await r.json() == {
                "open": 0,
                "tasked": 0,
                "resolved": 1,
                "dismissed": 1,
                "median_wait": 40 * 60,
            }
        async with client.get(s.url("/api/tally")) as r:
            served_bytes = await r.read()
        # the median is beside the tally, never in it: /api/tally is still the CLI's
        (tmp_path / "config.toml").write_text(
            f'[storage]\ndatabase = "{config.database}"\n', "utf-8"
        )
        cli = await asyncio.to_thread(run_cli, tmp_path, "tally", "--json")
        assert cli.returncode == 0, cli.stderr
        assert served_bytes == cli.stdout.encode()
        tally = json.loads(served_bytes)
        assert "median" not in served_bytes.decode()
        assert _unit(tally, "Roads Bureau")["streets_unserved"] == 1  # Station Road is done
        assert tally["no_unit"] == {"person_times": 1, "on_duty": 1, "people": 1}
        no_errors(caplog, api)
