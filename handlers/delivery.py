"""Sending the outbox: announcements, scheduled reports, escalations and welfare messages.

Messages are queued in the database by the transaction that caused them; the
courier sends them afterwards, oldest first within each chat, and records each
one as sent once Telegram has taken it. Telegram's flood limits are the rate
limiter's business, not ours: a 429 that outlasts its retries, a network error
or a 5xx puts the message back with a backoff. A chat that is gone (the bot was
removed, the group deleted) is not retried: a bound group is unbound and its
dispatchers are told.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from handlers.buttons import task_buttons
from snowbot.outbox import chat_gone, compose, retry_delay
from snowbot.service import Snowbot
from snowbot.texts import catalog
from storage.records import OutboxItem

log = logging.getLogger("snowbot.delivery")

BATCH = 200  # messages read from the outbox per round
PARALLEL_CHATS = 8  # chats sent to at once; each chat's own messages stay in order

# Bad Requests that mean "this chat cannot be written to", not "this message is wrong"
_GONE = (
    "chat not found",
    "bot is not a member",
    "not enough rights",
    "have no rights",
    "chat was deactivated",
    "group chat was deactivated",
    "bot was kicked",
    "user is deactivated",
)


class Courier:
    """Delivers the outbox, one run at a time.

    Calls that arrive while a run is going wait for it and, if it began before
    they asked, for one more; calls that a newer run already covers return at
    once. So a burst of requests costs one or two runs, and whoever awaits
    `deliver()` knows that everything queued before the call has been tried.
    """

    def __init__(self, bot: Bot, service: Snowbot) -> None:
        self.bot = bot
        self.service = service
        self._running = asyncio.Lock()
        self._asked = 0  # requests so far
        self._covered = 0  # requests that a run begun after them has answered

    async def deliver(self) -> int:
        """Send everything that is due; returns how many messages this call sent."""
        self._asked += 1
        asked = self._asked
        async with self._running:
            if self._covered >= asked:
                return 0
            self._covered = self._asked
            sent = 0
            while True:
                delivered, full = await self._round()
                sent += delivered
                if not full:
                    return sent

    async def _round(self) -> tuple[int, bool]:
        """One batch; returns (sent, whether to go on: the batch was full and all went well)."""
        items = await self.service.store.due_outbox(self.service.clock(), BATCH)
        by_chat: defaultdict[int, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_chat[item.message.chat_id].append(item)
        gate = asyncio.Semaphore(PARALLEL_CHATS)
        waiting = False  # something must wait for a retry: no point in another round now

        async def chat_run(queue: list[OutboxItem]) -> int:
            nonlocal waiting
            async with gate:
                done = 0
                for item in queue:
                    outcome = await self._send(item)
                    if outcome is None:  # come back later, and keep this chat's order
                        waiting = True
                        break
                    done += outcome
                return done

        counts = await asyncio.gather(*(chat_run(q) for q in by_chat.values()))
        return sum(counts), len(items) == BATCH and not waiting

    async def _send(self, item: OutboxItem) -> int | None:
        """1 when sent, 0 when dropped for good, None when it must wait and be tried again."""
        store = self.service.store
        letter = await compose(self.service, item)
        if letter is None:
            await store.outbox_failed(item, self.service.clock(), "task of an ended incident")
            return 0
        markup = task_buttons(catalog(letter.lang), letter.task) if letter.task else None
        try:
            message = await self.bot.send_message(letter.chat_id, letter.text, reply_markup=markup)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
            await self._later(item, float(seconds), exc)
            return None
        except Forbidden as exc:
            await self._gone(item, exc)
            return 0
        except BadRequest as exc:
            if any(words in str(exc).lower() for words in _GONE):
                await self._gone(item, exc)
            else:  # this message can never be sent as it is; trying again would not help
                log.error("outbox #%s to chat %s refused: %s", item.id, letter.chat_id, exc)
                await store.outbox_failed(item, self.service.clock(), str(exc))
            return 0
        except NetworkError as exc:  # connection trouble, timeouts and 5xx
            await self._later(item, retry_delay(item.attempts), exc)
            return None
        except TelegramError as exc:
            log.error("outbox #%s to chat %s failed: %s", item.id, letter.chat_id, exc)
            await self._later(item, retry_delay(item.attempts), exc)
            return None
        await store.outbox_sent(item, message.message_id, self.service.clock())
        return 1

    async def _later(self, item: OutboxItem, seconds: float, exc: TelegramError) -> None:
        log.warning(
            "outbox #%s to chat %s: %s; trying again in %.0f s",
            item.id,
            item.message.chat_id,
            exc,
            seconds,
        )
        await self.service.store.outbox_retry(item, self.service.clock() + seconds, str(exc))

    async def _gone(self, item: OutboxItem, exc: TelegramError) -> None:
        chat = item.message.chat_id
        await self.service.store.outbox_failed(item, self.service.clock(), str(exc))
        if await chat_gone(self.service, chat):
            log.warning("chat %s is gone (%s): unbound, its dispatchers are told", chat, exc)
        else:
            log.warning("chat %s cannot be written to (%s); skipped", chat, exc)
