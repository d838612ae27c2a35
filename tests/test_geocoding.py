"""Geocoding a /newtask name that is no street: stand-in geocoders, and geopy's Nominatim
against a local fake Nominatim server. Nothing reaches the network."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from snowbot.domain import limits
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import Posted, Proposed, Snowbot
from snowbot.service.geocoding import Box, NominatimGeocoder
from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import FakeClock, bot_config, opened_bot, person, stand_in

COLLEGE = (50.2402, 127.5004)  # "Heihe College": beside Station Road


class StandInGeocoder:
    def __init__(self, places: dict[str, tuple[float, float]], delay: float = 0.0) -> None:
        self.places = places
        self.delay = delay
        self.asked: list[tuple[str, Box | None]] = []

    async def locate(self, query: str, box: Box | None) -> tuple[float, float] | None:
        self.asked.append((query, box))
        await asyncio.sleep(self.delay)
        return self.places.get(query)

    async def close(self) -> None:
        pass


@pytest.fixture
async def geo_bot(config: Config, clock: FakeClock, city_csv: Path) -> AsyncIterator[Snowbot]:
    geocoder = StandInGeocoder({"Heihe College": COLLEGE, "Far Farm": (50.6, 127.5)})
    async with opened_bot(config, clock, city_csv, geocoder=geocoder) as service:
        yield service


async def test_a_geocoded_place_is_snapped_to_a_street_and_posted_once_confirmed(
    geo_bot: Snowbot,
) -> None:
    coordinator = await person(geo_bot, 1)
    proposed = await geo_bot.post_task(
        coordinator, ["Heihe", "College", "3", "ice", "at", "the", "gate"]
    )
    assert isinstance(proposed, Proposed)
    assert proposed.street.name == "Station Road" and proposed.km < 0.1
    assert proposed.needed == 3
    # nothing is posted until the dispatcher confirms
    assert (await geo_bot.tally()).tasks["open"] == 0
    posted = await geo_bot.post_proposal(coordinator, proposed.id)
    assert posted.task.street == "Station Road" and posted.task.needed == 3
    assert posted.task.note == "ice at the gate"
    with pytest.raises(Refused) as again:
        await geo_bot.post_proposal(coordinator, proposed.id)
    assert again.value.key == "newtask.proposal_gone"
    assert (await geo_bot.tally()).tasks["open"] == 1


async def test_only_the_dispatcher_who_asked_can_confirm(geo_bot: Snowbot) -> None:
    coordinator = await person(geo_bot, 1)
    await geo_bot.grant(coordinator, 50, Role.DISPATCHER, "North")
    await geo_bot.grant(coordinator, 51, Role.DISPATCHER, "North")
    asked = await geo_bot.post_task(await person(geo_bot, 50), ["Heihe", "College"])
    assert isinstance(asked, Proposed)
    with pytest.raises(Refused) as refused:
        await geo_bot.post_proposal(await person(geo_bot, 51), asked.id)
    assert refused.value.key == "newtask.proposal_gone"
    assert (await geo_bot.post_proposal(await person(geo_bot, 50), asked.id)).task.id == 1
    # a dispatcher bound to South cannot post a place in North
    await geo_bot.grant(coordinator, 52, Role.DISPATCHER, "South")
    with pytest.raises(Refused) as other:
        await geo_bot.post_task(await person(geo_bot, 52), ["Heihe", "College"])
    assert other.value.key == "refuse.other_district"


async def test_a_proposal_waits_an_hour_for_its_confirmation_and_no_longer(
    geo_bot: Snowbot, clock: FakeClock
) -> None:
    coordinator = await person(geo_bot, 1)
    on_time = await geo_bot.post_task(coordinator, ["Heihe", "College"])
    late = await geo_bot.post_task(coordinator, ["Heihe", "College", "2"])
    assert isinstance(on_time, Proposed) and isinstance(late, Proposed)
    clock.advance(limits.PROPOSAL_SECONDS)  # the last moment it can still be posted
    assert (await geo_bot.post_proposal(coordinator, on_time.id)).task.needed == 1
    clock.advance(1)
    with pytest.raises(Refused) as refused:
        await geo_bot.post_proposal(coordinator, late.id)
    assert refused.value.key == "newtask.proposal_gone"
    assert (await geo_bot.tally()).tasks["open"] == 1


@pytest.mark.parametrize("words", [["Nowhere", "Lane"], ["Far", "Farm"]])
async def test_not_found_or_far_away_falls_back_to_suggestions(
    geo_bot: Snowbot, words: list[str]
) -> None:
    with pytest.raises(Refused) as refused:
        await geo_bot.post_task(await person(geo_bot, 1), words)
    # no street is like these names: the refusal says so rather than list nothing
    assert refused.value.key == "typed.no_street"


async def test_a_slow_geocoder_falls_back_to_suggestions_in_time(
    config: Config, clock: FakeClock, city_csv: Path
) -> None:
    config = replace(config, geo=replace(config.geo, geocoder_timeout=timedelta(seconds=1)))
    slow = StandInGeocoder({"Heihe College": COLLEGE}, delay=30)
    async with opened_bot(config, clock, city_csv, geocoder=slow) as service:
        with pytest.raises(Refused) as refused:
            await asyncio.wait_for(
                service.post_task(await person(service, 1), ["Heihe", "College"]), timeout=5
            )
        assert refused.value.key == "typed.no_street"


async def test_without_a_geocoder_street_names_work_as_before(bot: Snowbot) -> None:
    assert bot.geocoder is None
    posted = await bot.post_task(await person(bot, 1), ["Station", "Road"])
    assert isinstance(posted, Posted)


async def test_the_post_button_in_chat(config: Config, city_csv: Path) -> None:
    from snowbot.app.wiring import start_bot

    geocoder = StandInGeocoder({"Heihe College": COLLEGE})
    coordinator = SimUser(1, "Coordinator", "en")
    async with stand_in() as api:
        running = await start_bot(bot_config(config, api, city_csv), timeout=1, geocoder=geocoder)
        try:
            asked = await api.ask(coordinator, "/newtask Heihe College 2")
            assert "Station Road" in asked.text and "Heihe College" in asked.text
            answer = await api.click(coordinator, asked, "Post at")
            assert "#1" in answer["text"]
            await api.wait_for(lambda: "#1" in asked.text and "0/2" in asked.text)
            again = await api.click(coordinator, asked, "Accept")  # the message is the task now
            assert "Check in first" in again["text"]
        finally:
            await running.stop()


async def test_nominatim_through_geopy_against_a_local_server(config: Config) -> None:
    seen: list[dict[str, str]] = []

    async def search(request: web.Request) -> web.Response:
        seen.append({**request.query, "agent": request.headers.get("User-Agent", "")})
        if request.query.get("q") == "Heihe College":
            return web.json_response(
                [{"lat": "50.2402", "lon": "127.5004", "display_name": "Heihe College"}]
            )
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/search", search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    geo = replace(
        config.geo,
        geocoder="nominatim",
        user_agent="snowbot-test",
        geocoder_domain=f"http://127.0.0.1:{port}",
    )
    geocoder = NominatimGeocoder(geo)
    try:
        box = ((50.2, 127.4), (50.3, 127.6))
        assert await geocoder.locate("Heihe College", box) == (50.2402, 127.5004)
        assert await geocoder.locate("Nowhere", None) is None
    finally:
        await geocoder.close()
        await runner.cleanup()
    assert seen[0]["agent"] == "snowbot-test" and seen[0]["bounded"] == "1"
    assert "viewbox" in seen[0]
