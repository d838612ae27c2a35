"""The courier sends only what it claimed in the database (issue 26): two couriers on one
database, the second reading the same waiting messages as the first, send each message
once between them (on both engines); a process killed with a message in hand does not
send it again when it is started again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from telegram import Bot

from handlers.delivery import Courier
from snowbot.config import Config
from snowbot.model import OutboxItem, Outgoing
from tests.harness import FakeClock, bot_config, eventually, opened_bot, stand_in

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

CHATS = (501, 502, 503)
EACH = 4  # messages per chat


def _held(
    due: Callable[[int], Awaitable[list[OutboxItem]]], read: asyncio.Event, go: asyncio.Event
) -> Callable[[int], Awaitable[list[OutboxItem]]]:
    """`due_messages` that, once it has read the waiting messages, waits for `go`: the
    other courier works meanwhile, as it may between any two statements."""

    async def held(limit: int) -> list[OutboxItem]:
        found = await due(limit)
        read.set()
        await go.wait()
        return found

    return held


async def test_two_couriers_reading_the_same_messages_send_each_once(
    config: Config, city_csv: Path, clock: FakeClock
) -> None:
    async with stand_in() as api:
        cfg = bot_config(config, api, city_csv)
        async with (
            opened_bot(cfg, clock) as first,
            opened_bot(cfg, clock) as second,
            Bot(api.token, base_url=api.base_url) as bot_one,
            Bot(api.token, base_url=api.base_url) as bot_two,
        ):
            owed = [
                Outgoing(f"note:{chat}:{n}", chat, "en", text=f"note {n} to {chat}")
                for chat in CHATS
                for n in range(EACH)
            ]
            assert await first.queue(owed) == len(owed)
            read, go = asyncio.Event(), asyncio.Event()
            late = Courier(bot_two, second)
            second.due_messages = _held(second.due_messages, read, go)  # type: ignore[method-assign]
            late_run = asyncio.create_task(late.deliver())
            await eventually(read.is_set, "the second courier has read what is due")
            assert await Courier(bot_one, first).deliver() == len(owed)
            go.set()
            assert await late_run == 0
            assert await first.outbox_backlog() == 0
    for chat in CHATS:
        assert [s.text for s in api.sent[chat]] == [f"note {n} to {chat}" for n in range(EACH)]
