"""The courier sends only what it claimed in the database (issue 26): two couriers on one
database, the second reading the same waiting messages as the first, send each message
once between them; a `snowbot run` killed with messages in hand does not send one again
when it is started again. Both on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from telegram import Bot

from handlers.delivery import Courier
from snowbot.domain.messages import OutboxItem, Outgoing
from snowbot.settings.config import Config
from snowbot.settings.config_file import load_config
from snowbot.tools.standin import BotApiStandIn
from tests.engines import NewDatabase, raw
from tests.harness import FakeClock, bot_config, eventually, opened_bot, stand_in
from tests.test_kill9 import _start, kill_when_sent_to, run_config

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
            second.due_messages = _held(second.due_messages, read, go)  # type: ignore[method-assign,assignment]
            late_run = asyncio.create_task(late.deliver())
            await eventually(read.is_set, "the second courier has read what is due")
            assert await Courier(bot_one, first).deliver() == len(owed)
            go.set()
            assert await late_run == 0
            assert await first.outbox_backlog() == 0
    for chat in CHATS:
        assert [s.text for s in api.sent[chat]] == [f"note {n} to {chat}" for n in range(EACH)]


async def test_killed_with_messages_in_hand_its_courier_never_sends_one_twice(
    tmp_path: Path, city_csv: Path, new_database: NewDatabase
) -> None:
    """The courier's own round (messages no update is replying with): each is claimed in
    the database before it goes to Telegram. Killed as the first reaches Telegram and
    started again, it sends what it had not claimed, and nothing it had, again."""
    chat = 7001
    database = new_database("notes.db")
    bot: subprocess.Popen[bytes] | None = None
    api = BotApiStandIn(on_event=kill_when_sent_to(chat, lambda: bot))
    await api.start()
    config = run_config(tmp_path, api, database, city_csv)

    async def queue(*numbers: int) -> None:
        async with opened_bot(load_config(str(config)), time.time) as service:
            notes = [Outgoing(f"note:{n}", chat, "en", text=f"note {n}") for n in numbers]
            assert await service.queue(notes) == len(notes)

    log = tmp_path / "bot.log"
    try:
        await queue(0, 1, 2, 3, 4)
        bot = _start(config, log)
        assert await asyncio.to_thread(bot.wait, 30) == -signal.SIGKILL
        api.on_event = None
        held = in_hand_of(database, chat)
        await queue(5)  # queued after the kill: the restarted courier's round ends with it
        bot = _start(config, log)
        await api.wait_for(lambda: "note 5" in [s.text for s in api.sent[chat]], timeout=30)
        bot.send_signal(signal.SIGTERM)
        await asyncio.to_thread(bot.wait, 20)
    finally:
        if bot is not None and bot.poll() is None:
            bot.kill()
        await api.stop()
    texts = [s.text for s in api.sent[chat]]
    assert len(texts) == len(set(texts)), texts  # none twice
    assert texts[0] == "note 0" and texts[-1] == "note 5", texts
    # each note reached the chat, or was in hand at the kill (whether Telegram had it
    # then cannot be known; sending it again could be a second message)
    assert {f"note:{t.split()[1]}" for t in texts} | held == {f"note:{n}" for n in range(6)}


def in_hand_of(database: Path | str, chat: int) -> set[str]:
    """Keys of the chat's messages claimed for sending and never answered."""
    with raw(database) as db:
        rows = db.execute(
            "SELECT key FROM outbox WHERE chat_id = ? AND sent_at IS NOT NULL "
            "AND message_id IS NULL AND failed_at IS NULL",
            (chat,),
        ).fetchall()
    return {str(key) for (key,) in rows}
