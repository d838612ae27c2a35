"""Sending the outbox: announcements, scheduled reports, escalations, welfare messages,
and replies that Telegram could not take when they were made.

Messages are queued in the database by the transaction that caused them; the
courier sends them afterwards, oldest first within each chat, and records each
one as sent once Telegram has taken it. Telegram's flood limits are the rate
limiter's business, not ours: a 429 that outlasts its retries puts the message
back for as long as Telegram asks. A network error or a 5xx is an outage when
nothing else gets through: then the courier knocks now and then (see `Courier`).
A chat that is gone (the bot was removed, the group deleted) is not retried: a
bound group is unbound and its dispatchers are told. A group that became a
supergroup is followed to its new id. After each delivery, announcements that an
outage kept from being edited are brought up to date.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from handlers.announce import refresh_stale
from handlers.buttons import task_buttons
from handlers.common import Markup, markup_from_json
from handlers.lanes import LaneLimiter
from snowbot.domain.messages import LANE_NOTICE, OutboxItem
from snowbot.service import Snowbot
from snowbot.service.outbox import chat_gone, compose, knock_delay, retry_delay
from snowbot.text.texts import catalog

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
    `deliver()` knows that everything queued before the call has been tried,
    unless Telegram is known to be unreachable: then nothing is tried until the
    next knock is due.

    A network error or a 5xx is Telegram's trouble when nothing else got through
    in the same round: the messages stay first in line and the courier knocks
    again after a short, growing wait (`knock_delay`). When other messages did
    get through, the trouble is the message's own and it backs off alone.
    """

    def __init__(self, bot: ExtBot[Any], service: Snowbot) -> None:
        self.bot = bot
        self.service = service
        # each message asks for its turn in its lane (replies first) when the limiter has lanes
        # (a plain Bot, as a test may hand it, has no limiter at all)
        self._lanes = isinstance(getattr(bot, "rate_limiter", None), LaneLimiter)
        self._running = asyncio.Lock()
        self._asked = 0  # requests so far
        self._covered = 0  # requests that a run begun after them has answered
        self._failed_rounds = 0  # rounds in a row in which Telegram could not be reached
        self._knock_at = 0.0  # while Telegram is unreachable: when to try again
        self._closing = False  # the bot is stopping: no more runs (`close`)

    @property
    def unreachable(self) -> bool:
        """Whether the last round found Telegram unreachable."""
        return self._failed_rounds > 0

    @property
    def closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """The bot is stopping: no run starts from now on, and a run under way ends after the
        messages already handed to Telegram (the rest wait in the outbox for the next start).
        An update's own replies (`send_now`) still go while the updates under way finish."""
        self._closing = True

    async def closed(self) -> None:
        """Once `close`d: wait until no run is under way, so the database may close."""
        async with self._running:
            pass

    async def deliver(self) -> int:
        """Send everything that is due; returns how many messages this call sent."""
        self._asked += 1
        asked = self._asked
        async with self._running:
            if self._covered >= asked or self._closing:
                return 0
            self._covered = self._asked
            if self.service.clock() < self._knock_at:
                return 0
            sent = 0
            while True:
                delivered, full = await self._round()
                sent += delivered
                if not full or self._closing:
                    break
            if not self.unreachable and not self._closing:  # edits an outage kept
                await refresh_stale(self.bot, self.service)
            return sent

    async def _round(self) -> tuple[int, bool]:
        """One batch; returns (sent, whether to go on: the batch was full and all went well)."""
        due = await self.service.due_messages(BATCH)
        items = await self.service.claim_messages(due) if due else []
        sent, finished = await self._send_claimed(items, stoppable=True)
        return sent, len(due) == BATCH and finished

    async def send_now(self, items: list[OutboxItem]) -> int:
        """Send messages claimed by whoever queued them (an update's replies), at once,
        in order within each chat; while Telegram is known to be unreachable they wait
        for the courier's next knock instead."""
        if not items:
            return 0
        if self.service.clock() < self._knock_at:
            await self.service.release_messages(items)
            return 0
        sent, _ = await self._send_claimed(items)
        return sent

    async def _send_claimed(
        self, items: list[OutboxItem], stoppable: bool = False
    ) -> tuple[int, bool]:
        """Send claimed messages; returns (sent, whether every one was tried).

        `stoppable`: a run of the courier's, which `close` ends between two messages.
        """
        by_chat: defaultdict[int, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_chat[item.message.chat_id].append(item)
        gate = asyncio.Semaphore(PARALLEL_CHATS)
        answered = 0  # messages Telegram answered, whatever it said
        sent = 0
        unreachable: list[tuple[OutboxItem, NetworkError]] = []
        untried: list[OutboxItem] = []  # claimed but not handed over: given back below

        async def chat_run(queue: list[OutboxItem]) -> bool:
            """Send a chat's messages in order; False when one must wait (and the rest after it)."""
            nonlocal answered, sent
            async with gate:
                for at, item in enumerate(queue):
                    if (unreachable and not answered) or (stoppable and self._closing):
                        # nothing got through since (stop knocking), or the bot is stopping
                        untried.extend(queue[at:])
                        return False
                    try:
                        outcome = await self._send(item)
                    except NetworkError as exc:  # connection trouble, timeouts and 5xx
                        unreachable.append((item, exc))
                        untried.extend(queue[at + 1 :])
                        return False
                    answered += 1
                    if outcome is None:
                        untried.extend(queue[at + 1 :])
                        return False
                    sent += outcome
                return True

        finished = await asyncio.gather(*(chat_run(q) for q in by_chat.values()))
        await self.service.release_messages(untried)
        await self._after_round(unreachable, answered > 0)
        return sent, all(finished)

    async def _after_round(
        self, unreachable: list[tuple[OutboxItem, NetworkError]], answered: bool
    ) -> None:
        """Put back what could not be sent: the message's own trouble, or Telegram's."""
        now = self.service.clock()
        if answered or not unreachable:
            if self._failed_rounds:
                log.warning("Telegram answers again; the waiting messages go out")
            self._failed_rounds = 0
            self._knock_at = 0.0
            for item, exc in unreachable:
                await self._later(item, retry_delay(item.attempts), exc)
            return
        wait = knock_delay(self._failed_rounds)
        self._failed_rounds += 1
        self._knock_at = now + wait
        for item, exc in unreachable:  # first in line again at the next knock
            await self.service.retry_message(item, now, str(exc))
        log.warning(
            "Telegram cannot be reached (%s); the outbox waits, next try in %.0f s",
            unreachable[0][1],
            wait,
        )

    async def _send(self, item: OutboxItem) -> int | None:
        """1 when sent, 0 when dropped for good, None when it must wait and be tried again.

        A network error or a 5xx is raised to the round, which decides whose trouble it is.
        """
        letter = await compose(self.service, item)
        if letter is None:
            await self.service.message_failed(
                item, "task of an ended incident, or no such file", telegram=False
            )
            return 0
        if letter.task is not None:
            markup: Markup | None = task_buttons(catalog(letter.lang), letter.task)
        else:
            markup = markup_from_json(letter.markup, self.bot)
        lane = item.lane
        how: dict[str, Any] = {"rate_limit_args": lane} if self._lanes else {}
        if lane == LANE_NOTICE and self.service.config.telegram.paid_broadcast:
            how["allow_paid_broadcast"] = True
        try:
            if item.message.edit_of is not None:  # a decision shown where it was asked
                lanes = {k: v for k, v in how.items() if k == "rate_limit_args"}  # never paid
                edited = await self.bot.edit_message_text(
                    letter.text, letter.chat_id, item.message.edit_of, reply_markup=None, **lanes
                )
                message_id = edited.message_id if not isinstance(edited, bool) else 0
                await self.service.message_sent(item, message_id)
                return 1
            if item.message.photo is not None:  # a proof photo, already on Telegram
                message = await self.bot.send_photo(
                    letter.chat_id, item.message.photo, caption=letter.text, **how
                )
            elif letter.document is not None:  # a closing report's CSV: the text is its caption
                name, content = letter.document
                message = await self.bot.send_document(
                    letter.chat_id, content, filename=name, caption=letter.text, **how
                )
            else:
                message = await self.bot.send_message(
                    letter.chat_id, letter.text, reply_markup=markup, **how
                )
        except RetryAfter as exc:
            # a timedelta (see snowbot.app.wiring.use_timedelta_durations), or whole seconds
            wait = exc.retry_after
            seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
            await self._later(item, float(seconds), exc)
            return None
        except Forbidden as exc:
            await self._gone(item, exc)
            return 0
        except ChatMigrated as exc:  # the group is a supergroup now: everything follows it
            await self.service.release_messages([item])  # to be moved with the rest
            await moved(self.service, letter.chat_id, exc.new_chat_id)
            return None
        except BadRequest as exc:
            if any(words in str(exc).lower() for words in _GONE):
                await self._gone(item, exc)
            else:  # this message can never be sent as it is; trying again would not help
                log.error("outbox #%s to chat %s refused: %s", item.id, letter.chat_id, exc)
                await self.service.message_failed(item, str(exc))
            return 0
        except NetworkError:
            raise
        except TelegramError as exc:
            log.error("outbox #%s to chat %s failed: %s", item.id, letter.chat_id, exc)
            await self._later(item, retry_delay(item.attempts), exc)
            return None
        await self.service.message_sent(item, message.message_id)
        return 1

    async def _later(self, item: OutboxItem, seconds: float, exc: TelegramError) -> None:
        log.warning(
            "outbox #%s to chat %s: %s; trying again in %.0f s",
            item.id,
            item.message.chat_id,
            exc,
            seconds,
        )
        await self.service.retry_message(item, self.service.clock() + seconds, str(exc))

    async def _gone(self, item: OutboxItem, exc: TelegramError) -> None:
        chat = item.message.chat_id
        await self.service.message_failed(item, str(exc))
        if await chat_gone(self.service, chat):
            log.warning("chat %s is gone (%s): unbound, its dispatchers are told", chat, exc)
        else:
            log.warning("chat %s cannot be written to (%s); skipped", chat, exc)


async def moved(service: Snowbot, old_id: int, new_id: int) -> None:
    """Follow a group to its new id as a supergroup (told by an update or by a refusal)."""
    if not await service.move_chat(old_id, new_id):
        return
    log.warning("chat %s became supergroup %s: its binding and messages follow it", old_id, new_id)
    if service.is_report_chat(old_id):
        log.warning(
            "report chat %s is now %s: please put the new id in report_chats", old_id, new_id
        )
