"""Updates from different people are handled at once; one person's, in the order sent."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from telegram import CallbackQuery, Chat, Message, Update, User

from handlers.app import build_application
from handlers.ordering import PerPersonUpdateProcessor
from snowbot.service import Snowbot
from snowbot.settings.config import TelegramConfig
from tests.harness import eventually


def from_person(update_id: int, user_id: int, button: bool = False) -> Update:
    user = User(user_id, f"user{user_id}", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, datetime.now(UTC), chat, from_user=user, text="/checkin 5")
    if button:
        query = CallbackQuery(str(update_id), user, "ci", message=message, data="v1|a|1")
        return Update(update_id, callback_query=query)
    return Update(update_id, message=message)


async def test_one_persons_updates_wait_for_each_other_and_others_do_not() -> None:
    processor = PerPersonUpdateProcessor()
    log: list[str] = []
    release = asyncio.Event()

    async def handle(name: str, hold: bool = False) -> None:
        log.append(f"{name} start")
        if hold:
            await release.wait()
        log.append(f"{name} end")

    first = asyncio.create_task(processor.process_update(from_person(1, 10), handle("a1", True)))
    await eventually(lambda: "a1 start" in log, "the first update starts")
    # the same person's location, then a button press, arrive while the first still runs
    rest = [
        asyncio.create_task(processor.process_update(from_person(2, 10), handle("a2"))),
        asyncio.create_task(processor.process_update(from_person(3, 10, True), handle("a3"))),
        asyncio.create_task(processor.process_update(from_person(4, 20), handle("b1"))),
    ]
    await eventually(lambda: "b1 end" in log, "someone else's update is handled")
    assert "a2 start" not in log and "a3 start" not in log
    release.set()
    await asyncio.wait_for(asyncio.gather(first, *rest), timeout=5)
    mine = [entry for entry in log if entry.startswith("a")]
    assert mine == ["a1 start", "a1 end", "a2 start", "a2 end", "a3 start", "a3 end"]


async def test_the_bot_handles_its_updates_through_it(bot: Snowbot) -> None:
    bot.config = replace(bot.config, telegram=TelegramConfig(token="123:ABC"))
    app = build_application(bot)
    assert isinstance(app.update_processor, PerPersonUpdateProcessor)
    assert app.update_processor.max_concurrent_updates > 1
