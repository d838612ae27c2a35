"""Who plays the demo's storm, on which clock, and what it prints."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TextIO

from snowbot.domain.tally import Tally
from snowbot.service import Snowbot
from snowbot.service.sweeps import Swept
from snowbot.settings.config import Config
from snowbot.tools.standin import Sent, SimUser

COORDINATOR = SimUser(1001, "王协调", "zh")
SEED_PERSON_TIMES = 56_000
SEED_DAYS = 6


class SteppedBot(Protocol):
    """The real bot as the demo drives it: its sweeps run when the script says (`tick`)."""

    service: Snowbot

    async def tick(self) -> Swept: ...
    async def stop(self) -> None: ...


StartBot = Callable[[Config, Callable[[], float]], Awaitable[SteppedBot]]


class SimClock:
    """The bot's clock during the demo: moved on by the script, not by the wall."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


@dataclass
class Cast:
    dispatchers: dict[str, SimUser]
    groups: dict[str, int]
    hq_group: int


class Transcript:
    """The conversation (unless quiet) and the progress lines (to `out`)."""

    def __init__(self, quiet: bool, out: TextIO | None = None) -> None:
        self.quiet = quiet
        self.out = out or sys.stdout

    def line(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def progress(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def said(
        self, who: SimUser, text: str, answer: Sent | None, first_line_only: bool = False
    ) -> None:
        self.line(f"👤 {who.first_name}: {text}")
        if answer is not None:
            body = answer.text.splitlines()[0] if first_line_only else answer.text
            self.line("   🤖 " + body.replace("\n", "\n      "))


@dataclass(frozen=True)
class Storm:
    """How a played storm ended."""

    tally: Tally
    chat_tally: str  # the coordinator's /tally at the end
    seconds: float
    updates: int
    closing: str = ""  # the seed storm's closing report, as the coordinator received it
