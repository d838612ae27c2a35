"""One `snowbot play` session: the people and groups the lines name, what each line
sends the bot, and the bot's messages printed once it has answered."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from snowbot.domain.tally import tally_json_text
from snowbot.settings.config import Config
from snowbot.text.texts import Catalog
from snowbot.tools.demo.cast import COORDINATOR, SimClock, SteppedBot
from snowbot.tools.play.console import Console, button_text, buttons
from snowbot.tools.play.script import Line, Locate, Press, Quit, Say, ShowTally, Skip, Unknown, Wait
from snowbot.tools.standin import BotApiStandIn, Sent, SimUser

SETTLE_SECONDS = 15.0  # the longest the console waits for the bot to answer one line
POLL_SECONDS = 0.005  # how often it looks whether the bot has answered
WAIT_STEP = timedelta(minutes=1)  # `wait`: the sweeps run once a simulated minute
WAIT_STEPS_MOST = 2000  # ... or less often in a long wait, so that `wait 7d` ends soon
GROUP_IDS_FROM = -1_001_000_000_000


class PlayedBot(SteppedBot, Protocol):
    """The real bot as the console drives it: `settle` returns once every update taken in
    is handled and what it queued is sent."""

    async def settle(self) -> None: ...


StartPlayedBot = Callable[[Config, Callable[[], float]], Awaitable[PlayedBot]]


class Session:
    """The stand-in's people as the script names them, and the bot they talk to."""

    def __init__(
        self,
        api: BotApiStandIn,
        bot: PlayedBot,
        clock: SimClock,
        console: Console,
        t: Catalog,
    ) -> None:
        self.api, self.bot, self.clock, self.console, self.t = api, bot, clock, console, t
        self.people: dict[str, SimUser] = {}
        self.groups: dict[str, int] = {}
        self.members: dict[str, set[int]] = {}  # the chats each person reads
        self._ids = itertools.count(COORDINATOR.id + 1)
        self._group_ids = itertools.count(GROUP_IDS_FROM, -1)
        self._shown = 0  # the stand-in's message ids up to this one are printed

    async def play(self, line: Line) -> bool:
        """Do what the line says and print the bot's answers; False once it says quit."""
        match line:
            case Quit():
                return False
            case Skip():
                return True
            case Unknown(text):
                self.console.note(self.t("play.unknown", line=text))
            case Say(name, text, None):
                await self._settle(await self.api.say(self._person(name), text))
            case Say(name, text, group) if group is not None:
                chat = self._group(group)
                person = self._person(name)
                self.members[name].add(chat)
                await self._settle(await self.api.say(person, text, chat))
            case Locate(name, street, point):
                await self._locate(name, street, point)
            case Press(name, label):
                await self._press(name, label)
            case Wait(duration):
                await self._wait(duration)
            case ShowTally():
                self.console.plain(tally_json_text(await self.bot.service.tally()))
        return True

    # -- who is who ---------------------------------------------------------------------

    def _person(self, name: str) -> SimUser:
        """The person called NAME; the first one named is the coordinator."""
        person = self.people.get(name)
        if person is None:
            user_id = COORDINATOR.id if not self.people else next(self._ids)
            person = self.people[name] = SimUser(user_id, name, "zh")
            self.members[name] = {user_id}
        return person

    def _group(self, title: str) -> int:
        chat = self.groups.get(title)
        if chat is None:
            chat = self.groups[title] = next(self._group_ids)
            self.api.group(chat, title)
        return chat

    def _chat_name(self, chat_id: int) -> str:
        for title, chat in self.groups.items():
            if chat == chat_id:
                return f"#{title}"
        for name, person in self.people.items():
            if person.id == chat_id:
                return name
        return str(chat_id)  # a report chat of the config that no line names

    # -- what a line does -----------------------------------------------------------------

    async def _locate(
        self, name: str, street: str | None, point: tuple[float, float] | None
    ) -> None:
        if street is not None:
            found = self.bot.service.directory.match_leading(street.split())
            if len(found.streets) != 1 or found.rest:
                close = [s.name for s in self.bot.service.directory.suggest(street)]
                hint = "play.street_unknown" if len(found.streets) != 1 else "play.street_extra"
                self.console.note(self.t(hint, street=street, close="、".join(close) or "—"))
                return
            point = (found.streets[0].lat, found.streets[0].lon)
        assert point is not None
        await self._settle(await self.api.share_location(self._person(name), *point))

    async def _press(self, name: str, label: str) -> None:
        person = self._person(name)
        found = self._latest_with(name, label)
        if found is None:
            self.console.note(self.t("play.no_button", name=name, label=label))
            return
        message, button = found
        data = button.get("callback_data") if isinstance(button, dict) else None
        if data is None:  # a link, or a keyboard's location request: nothing for the bot
            self.console.note(self.t("play.not_pressable", label=button_text(button)))
            return
        shown = self._shown
        query = await self.api.press(person, message, str(data))
        await self._settle(self.api.updates_pushed)
        answer = self.api.answers.get(query, {}).get("text")
        if answer and self._shown == shown:  # only the notice Telegram shows over the chat
            self.console.message(name, str(answer), None)

    def _latest_with(self, name: str, label: str) -> tuple[Sent, Any] | None:
        """The latest message NAME received (in private or a group NAME wrote in) with a
        button whose label contains `label`, and that button."""
        newest: tuple[Sent, Any] | None = None
        for chat in self.members.get(name, ()):
            for message in reversed(self.api.sent[chat]):
                button = next(
                    (b for b in buttons(message.reply_markup) if label in button_text(b)), None
                )
                if button is not None:
                    if newest is None or message.message_id > newest[0].message_id:
                        newest = (message, button)
                    break
        return newest

    async def _wait(self, duration: timedelta) -> None:
        """The bot's clock runs forward; the sweeps run as the scheduler would run them."""
        step = max(WAIT_STEP, duration / WAIT_STEPS_MOST)
        end = self.clock() + duration.total_seconds()
        while self.clock() < end:
            self.clock.now = min(end, self.clock() + step.total_seconds())
            await self.bot.tick()
        self._show()

    # -- the bot's answers ----------------------------------------------------------------

    async def _settle(self, update_id: int) -> None:
        """Wait until the bot has handled the update and sent everything it queued, then
        print what it sent, in the order it sent it (so that a script's output is exact)."""
        service = self.bot.service
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while not await service.already_handled(update_id):  # fetched, and handled
            if loop.time() > deadline:
                self.console.note(self.t("play.slow"))
                break
            await asyncio.sleep(POLL_SECONDS)
        await self.bot.settle()  # ... to the end, with all it owes sent
        self._show()

    def _show(self) -> None:
        fresh = [
            message
            for messages in self.api.sent.values()
            for message in messages
            if message.message_id > self._shown
        ]
        for message in sorted(fresh, key=lambda m: m.message_id):
            text = message.text
            if message.document is not None:
                text = f"📎 {message.document}" + (f"\n{text}" if text else "")
            self.console.message(self._chat_name(message.chat_id), text, message.reply_markup)
            self._shown = message.message_id
