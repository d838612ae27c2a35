"""The outbox's rules without Telegram: order per chat, waits, kept replies, retry_after."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import RetryAfter

from handlers.common import markup_from_json
from snowbot.app.wiring import use_timedelta_durations
from snowbot.domain.messages import Outgoing
from snowbot.service.outbox import knock_delay, retry_delay
from tests.harness import opened_store


async def test_a_message_put_back_holds_back_the_newer_ones_of_its_chat(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "outbox.db") as store:
        await store.enqueue(
            [
                Outgoing("tally:1", 100, "en", text="12:00 report"),
                Outgoing("tally:2", 100, "en", text="12:30 report"),
                Outgoing("tally:2", 200, "en", text="12:30 report"),
            ],
            now=1000.0,
        )
        first = (await store.due_outbox(1000.0, 10))[0]
        assert first.message.text == "12:00 report"
        await store.outbox_retry(first, due_at=1010.0, error="502")
        # chat 100 waits for its 12:00 report; chat 200 does not wait for anyone
        due = await store.due_outbox(1005.0, 10)
        assert [(i.message.chat_id, i.message.key) for i in due] == [(200, "tally:2")]
        due = await store.due_outbox(1010.0, 10)
        assert [i.message.key for i in due if i.message.chat_id == 100] == ["tally:1", "tally:2"]


async def test_a_reply_kept_for_later_is_queued_once_with_its_buttons(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "outbox.db") as store:
        markup = '{"inline_keyboard": [[{"text": "Accept #1", "callback_data": "v1|a|1"}]]}'
        kept = Outgoing("reply:7:abc", 10, "", text="✅ On duty", markup=markup)
        assert await store.enqueue([kept], now=1.0) == 1
        assert await store.enqueue([kept], now=2.0) == 0  # the same update handled again
        (item,) = await store.due_outbox(2.0, 10)
        assert item.message == kept


def test_every_kind_of_reply_markup_survives_the_outbox() -> None:
    bot = Bot("123:ABC")
    markups = [
        InlineKeyboardMarkup([[InlineKeyboardButton("Accept #1", callback_data="v1|a|1")]]),
        ReplyKeyboardMarkup(
            [[KeyboardButton("📍", request_location=True)]], one_time_keyboard=True
        ),
        ReplyKeyboardRemove(),
        ForceReply(),
    ]
    for markup in markups:
        back = markup_from_json(markup.to_json(), bot)
        assert type(back) is type(markup) and back.to_dict() == markup.to_dict()
    assert markup_from_json(None, bot) is None


def test_waits_after_failures() -> None:
    # one message's own trouble backs off to five minutes
    assert [retry_delay(a) for a in range(3)] == [2.0, 4.0, 8.0]
    assert retry_delay(50) == 300.0
    # knocking on an unreachable Telegram stays frequent, so the outbox empties soon after
    assert [knock_delay(r) for r in range(6)] == [1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert knock_delay(10_000) == 15.0


def test_retry_after_is_read_in_the_form_ptb_keeps() -> None:
    use_timedelta_durations()  # as the composition root does before python-telegram-bot runs
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PTB warns on the deprecated whole seconds
        assert RetryAfter(3).retry_after == timedelta(seconds=3)


async def test_a_chat_that_moves_takes_its_binding_and_waiting_messages(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "outbox.db") as store:
        await store.bind_chat(-100, None, 1, now=1.0, title="HQ")
        await store.enqueue(
            [
                Outgoing("tally:1", -100, "en", text="12:00"),
                Outgoing("tally:2", -100, "en", text="12:30"),
                Outgoing("tally:2", -200, "en", text="12:30"),  # already queued at the new id
            ],
            now=1.0,
        )
        assert await store.move_chat(-100, -200, now=2.0)
        assert not await store.move_chat(-100, -200, now=3.0)  # told twice: no news
        assert [b.chat_id for b in await store.bindings()] == [-200]
        assert await store.moved_chats() == {-100: -200}
        due = await store.due_outbox(3.0, 10)
        assert sorted((i.message.key, i.message.chat_id) for i in due) == [
            ("tally:1", -200),
            ("tally:2", -200),
        ]
