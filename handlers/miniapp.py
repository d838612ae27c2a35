"""The Mini App's acts as the person's own updates, `/app`, and the menu button (docs/commands.md
"The Mini App").

An act in the app (Accept, Release, Done, Make task, Dismiss, posting a task) is made
into the update the chat would have sent: a press of the chat's button, or the command
typed. It is handled by the same handlers in the person's turn (`handlers.ordering`),
as one transaction with its replies queued (`snowbot.domain.handling`), announcements edited
and all. Its update id is negative: Telegram's are positive, so they never meet; it waits
for every update the person sent before it, in any process (`handlers.ordering`).
"""

from __future__ import annotations

import itertools
import logging
import time
from datetime import UTC, datetime
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    Message,
    MessageEntity,
    Update,
    User,
    WebAppInfo,
)
from telegram.error import TelegramError
from telegram.ext import Application, TypeHandler

from handlers import buttons, residents
from handlers.common import Context, Who, action, replies_of, reply, service, service_of
from handlers.photos import TelegramPhotos
from snowbot.domain.messages import Outgoing
from snowbot.service.init_data import AppUser
from snowbot.service.miniapp import PRESSES, Outcome
from snowbot.text.texts import catalog

log = logging.getLogger("snowbot.service.miniapp")
CAPTURE_GROUP = 99  # just before `handlers.app.HANDLED_GROUP`, which takes the replies
_DATA = {
    "accept": lambda n: buttons.encode(buttons.ACCEPT, n),
    "release": lambda n: buttons.encode(buttons.RELEASE, n),
    "done": lambda n: buttons.encode(buttons.DONE, n),
    "make_task": lambda n: residents.encode(residents.MAKE_TASK, n),
    "dismiss": lambda n: residents.encode(residents.DISMISS, n),
}
_sequence = itertools.count()
__all__ = ["AppDoor", "TelegramPhotos", "app_command", "set_menu_button"]


def app_url(public_url: str) -> str | None:
    """Where Telegram opens the app: only from an https address (Telegram's rule)."""
    return f"{public_url}/app" if public_url.startswith("https://") else None


class AppPress(CallbackQuery):
    """A press made in the app: its answer is kept for the app instead of sent."""

    __slots__ = ("answers",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.answers: list[tuple[str, bool]] = []

    async def answer(  # type: ignore[override]
        self, text: str | None = None, show_alert: bool | None = None, **_: Any
    ) -> bool:
        self.answers.append((text or "", bool(show_alert)))
        return True


class AppDoor:
    """`snowbot.service.miniapp.Actions` through the running Application."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        self.app = app
        self._owed: dict[int, list[Outgoing]] = {}
        app.add_handler(TypeHandler(Update, self._capture), group=CAPTURE_GROUP)

    async def _capture(self, update: Update, context: Context) -> None:
        if update.update_id in self._owed:
            self._owed[update.update_id] = list(
                replies_of(context.application).get(update.update_id, [])
            )

    def _ids(self) -> int:
        # microseconds since 1970 and a sequence: unique here, and across processes
        # (several webhook processes) unless two acts fall in one microsecond
        return -(time.time_ns() // 1000 * 1000 + next(_sequence) % 1000)

    async def _handle(self, update: Update) -> None:
        update.set_bot(self.app.bot)
        processor = self.app.update_processor
        await processor.process_update(update, self.app.process_update(update))

    def _chat(self, user: AppUser) -> tuple[User, Chat, Message]:
        person = User(
            user.id,
            user.first_name,
            False,
            last_name=user.last_name or None,
            username=user.username,
            language_code=user.language_code,
        )
        chat = Chat(user.id, Chat.PRIVATE, first_name=user.first_name)
        message = Message(0, datetime.now(UTC), chat, from_user=person)
        message.set_bot(self.app.bot)
        return person, chat, message

    async def press(self, user: AppUser, press: str, number: int) -> Outcome:
        if press not in PRESSES:
            return Outcome(False, "")
        update_id = self._ids()
        person, _, message = self._chat(user)
        query = AppPress(
            str(-update_id), person, "miniapp", message=message, data=_DATA[press](number)
        )
        query.set_bot(self.app.bot)
        await self._handle(Update(update_id, callback_query=query))
        if not query.answers:  # nothing answered: the update was not handled
            return Outcome(False, catalog(user.language_code or "zh")("error.generic"))
        text, alert = query.answers[-1]
        return Outcome(not alert, text, number if press != "dismiss" else None)

    async def post(self, user: AppUser, street_id: int, needed: int) -> Outcome:
        update_id = self._ids()
        person, chat, _ = self._chat(user)
        text = f"/newtask {street_id} {needed}"
        message = Message(
            0,
            datetime.now(UTC),
            chat,
            from_user=person,
            text=text,
            entities=[MessageEntity(MessageEntity.BOT_COMMAND, 0, len("/newtask"))],
        )
        message.set_bot(self.app.bot)
        self._owed[update_id] = []
        try:
            await self._handle(Update(update_id, message=message))
            owed = self._owed[update_id]
        finally:
            self._owed.pop(update_id, None)
        posted = next((o.task_id for o in owed if o.task_id is not None), None)
        if posted is not None:
            t = catalog(owed[0].lang or "zh")
            return Outcome(True, t("newtask.posted_short", id=posted), posted)
        said = next((o.text for o in owed if o.text), "")
        return Outcome(False, said)


@action
async def app_command(update: Update, context: Context, me: Who) -> None:
    """`/app`: a button that opens the Mini App, or what the operator must set."""
    dashboard = service(context).config.dashboard
    url = app_url(dashboard.public_url) if dashboard.enabled else None
    if url is None:
        await reply(update, context, me.t("app.off"))
        return
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(me.t("app.open"), web_app=WebAppInfo(url))]]
    )
    await reply(update, context, me.t("app.here"), reply_markup=markup)


async def set_menu_button(app: Application) -> None:  # type: ignore[type-arg]
    """The chat's menu button opens the app, when Telegram can open it (https)."""
    dashboard = service_of(app).config.dashboard
    url = app_url(dashboard.public_url) if dashboard.enabled else None
    if url is None:
        return
    t = catalog(service_of(app).config.language)
    try:
        await app.bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(t("app.menu"), WebAppInfo(url))
        )
    except TelegramError as exc:  # the chat's commands still work: a warning is enough
        log.warning("setting the menu button to the Mini App failed: %s", exc)
