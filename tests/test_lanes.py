"""Replies first (issue 31, SPEC §14): under Telegram's rate limit a reply never waits
behind bulk notices; bulk notices go as paid broadcasts only when the config says so."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from handlers.lanes import LaneBucket
from snowbot.domain.messages import LANE_ANNOUNCE, LANE_NOTICE, LANE_REPLY, Outgoing
from snowbot.settings.config import Config
from tests.harness import CADRE, bot_config, running_bot, stand_in


async def test_a_reply_gets_the_next_turn_before_the_notices_waiting() -> None:
    bucket = LaneBucket(rate=2000.0)
    await bucket.acquire(LANE_NOTICE)  # the one token there was: everyone else waits
    order: list[str] = []

    async def wait(name: str, lane: int) -> None:
        await bucket.acquire(lane)
        order.append(name)

    waiting = [asyncio.create_task(wait(f"notice {n}", LANE_NOTICE)) for n in range(8)]
    waiting.append(asyncio.create_task(wait("announcement", LANE_ANNOUNCE)))
    waiting.append(asyncio.create_task(wait("reply", LANE_REPLY)))
    await asyncio.gather(*waiting)
    assert order == ["reply", "announcement"] + [f"notice {n}" for n in range(8)]


async def test_a_cancelled_waiter_gives_its_turn_to_the_next() -> None:
    bucket = LaneBucket(rate=2000.0)
    await bucket.acquire(LANE_NOTICE)
    gone = asyncio.create_task(bucket.acquire(LANE_REPLY))
    kept = asyncio.create_task(bucket.acquire(LANE_NOTICE))
    await asyncio.sleep(0)  # both are in line
    gone.cancel()
    await kept  # served although the one before it left the line
    assert gone.cancelled()


async def test_a_reply_overtakes_the_notices_waiting_even_its_own_chats(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api:
        api.rate_limit = 30  # Telegram's: 150 notices take five seconds
        others = [Outgoing(f"ended:{n}", 900_000 + n, "en", text=f"notice {n}") for n in range(150)]
        own = Outgoing("ended:own", CADRE.id, "en", text="your own notice")
        async with running_bot(bot_config(config, api, city_csv)) as running:
            await running.service.queue([*others, own])
            await api.wait_for(lambda: api.count(900_000) == 1)  # the courier is at it
            answer = await api.ask(CADRE, "/help")
            assert "/checkin" in answer.text
            out = sum(api.count(900_000 + n) for n in range(150))
            assert out < 150, "the reply came only after every notice"
            await api.wait_for(lambda: api.count(CADRE.id) == 2, timeout=30)
        # in the cadre's own chat too, the reply went before the older notice
        assert [s.text for s in api.sent[CADRE.id]][1] == "your own notice"
        assert not any(s.paid for s in api.sent[CADRE.id])


async def test_bulk_notices_are_paid_broadcasts_only_when_configured(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api:  # one stand-in: its update ids go on across both bots
        for paid in (False, True):
            cfg = bot_config(config, api, city_csv)
            cfg = replace(cfg, telegram=replace(cfg.telegram, paid_broadcast=paid))
            chat = 4242 + paid
            async with running_bot(cfg) as running:
                await running.service.queue([Outgoing("ended", chat, "en", text="ended")])
                (notice,) = await api.wait_for(lambda: api.sent[chat])  # noqa: B023
                reply = await api.ask(CADRE, "/help")
            assert notice.paid is paid
            assert not reply.paid  # replies never are
