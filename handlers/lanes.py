"""Telegram's flood limits, with replies first.

Telegram takes about 30 messages a second from a bot (20 a minute in one group). When
thousands of notices wait for that limit (an incident's end telling everyone on duty),
a person who just checked in must not wait behind them: every call asks for its turn in
a lane (`snowbot.domain.messages.LANE_REPLY` before `LANE_ANNOUNCE` before `LANE_NOTICE`, given as
python-telegram-bot's `rate_limit_args`; a call without one is a reply), and each turn
goes to the first lane that has someone waiting. So a reply waits at most for the one
message already given the turn before it, never for the queue.

Paid broadcasts (`allow_paid_broadcast`, `[telegram] paid_broadcast`) have a limit of
their own, as Telegram counts them apart.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from snowbot.domain.messages import LANE_REPLY

log = logging.getLogger("snowbot.lanes")

MESSAGES_PER_SECOND = 30.0
GROUP_MESSAGES_PER_MINUTE = 20
PAID_MESSAGES_PER_SECOND = 1000.0
MAX_RETRIES = 3
_FORGET_GROUPS_BEYOND = 512  # groups' buckets kept; idle full ones are dropped beyond that


class LaneBucket:
    """A token bucket (`rate` a second, at most `burst` saved up) whose waiters are served
    lowest lane first, oldest first within a lane."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at = 0.0  # loop time of the last refill
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._runner: asyncio.Task[None] | None = None

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    @property
    def idle(self) -> bool:
        """Nobody waits and the bucket is full (it can be forgotten)."""
        loop = asyncio.get_running_loop()
        self._refill(loop.time())
        return not self._waiting and self._tokens >= self.burst

    async def acquire(self, lane: int) -> None:
        """Wait for a turn in `lane`."""
        loop = asyncio.get_running_loop()
        self._refill(loop.time())
        if not self._waiting and self._tokens >= 1:
            self._tokens -= 1
            return
        turn: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (lane, next(self._order), turn))
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._hand_out(), name="lanes")
        await turn  # a cancelled waiter's future is cancelled too, and skipped

    def pause(self, seconds: float) -> None:
        """Telegram asked to wait: nobody in this bucket gets a turn for `seconds`."""
        self._refill(asyncio.get_running_loop().time())
        self._tokens = min(self._tokens, 0.0) - seconds * self.rate

    async def _hand_out(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            self._refill(loop.time())
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                continue
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                self._tokens -= 1
                turn.set_result(None)


class LaneLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate limiter for snowbot: Telegram's limits, replies first.

    `rate` None: no limits at all (a local stand-in, where limits would only measure
    sleeps); calls still go through unchanged.
    """

    def __init__(
        self,
        rate: float | None = MESSAGES_PER_SECOND,
        group_per_minute: int = GROUP_MESSAGES_PER_MINUTE,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        self._limited = rate is not None
        self._overall = LaneBucket(rate or 1.0)
        self._paid = LaneBucket(PAID_MESSAGES_PER_SECOND)
        self._group_per_minute = group_per_minute
        self._groups: dict[int | str, LaneBucket] = {}
        self._max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _group(self, chat: int | str) -> LaneBucket:
        if len(self._groups) > _FORGET_GROUPS_BEYOND:
            for key, bucket in list(self._groups.items()):
                if key != chat and bucket.idle:
                    del self._groups[key]
        found = self._groups.get(chat)
        if found is None:
            found = LaneBucket(self._group_per_minute / 60.0, self._group_per_minute)
            self._groups[chat] = found
        return found

    async def _turn(self, lane: int, data: dict[str, Any]) -> LaneBucket | None:
        """Wait for the call's turn; the bucket it came from (to pause on a 429)."""
        chat = data.get("chat_id")
        if chat is None:  # not a message to a chat (answering a button press, getMe …)
            return None
        if data.get("allow_paid_broadcast"):
            await self._paid.acquire(lane)
            return self._paid
        if isinstance(chat, str) or (isinstance(chat, int) and chat < 0):
            await self._group(chat).acquire(lane)
        await self._overall.acquire(lane)
        return self._overall

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send in the lane `rate_limit_args` (None: a reply) when its turn comes; a 429
        pauses that bucket for as long as Telegram asks and the call is tried again."""
        if not self._limited:
            return await callback(*args, **kwargs)
        lane = LANE_REPLY if rate_limit_args is None else rate_limit_args
        for attempt in range(self._max_retries + 1):
            bucket = await self._turn(lane, data)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self._max_retries or bucket is None:
                    raise
                wait = exc.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                log.info("%s: Telegram asks to wait %.1f s; trying again", endpoint, seconds)
                bucket.pause(float(seconds))
        raise AssertionError("unreachable: the last attempt returns or raises")
