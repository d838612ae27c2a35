"""Residents' reports (群众求助): /report and the location, text or photo that follow it;
/reports; the dispatchers' Make task, Dismiss and Block buttons.

(Not the scheduled tally reports: those are `handlers.reports` and `snowbot.service.sweeps`.)
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError

from handlers import checkin, words
from handlers.buttons import ButtonData
from handlers.common import (
    Context,
    Who,
    action,
    after_commit,
    answer_press,
    args_of,
    localised,
    pressed,
    reply,
    reply_task,
    say,
    service,
)
from handlers.jobs import deliver_soon
from snowbot.domain import limits
from snowbot.domain.refusals import Refused
from snowbot.domain.residents import Report, ReportMade, ReportOutcome
from snowbot.service import report_ref
from snowbot.text.texts import Catalog, catalog

log = logging.getLogger("snowbot.domain.residents")

# Callback data of the report buttons: "r1|m|12" (≤ 64 bytes). Its own version and prefix,
# so `handlers.tasks.button` never sees it and a change here is a new version, not a guess.
VERSION = "r1"
MAKE_TASK, DISMISS, ASK_BLOCK, BLOCK = "m", "n", "b", "k"
REPORT_DATA = ButtonData(VERSION, MAKE_TASK + DISMISS + ASK_BLOCK + BLOCK)
PATTERN = REPORT_DATA.pattern
_REPORT_CAPTION = re.compile(r"^/report(?:@\w+)?(?:\s+(.*))?$", re.S)


@dataclass(frozen=True)
class Press:
    action: str
    report_id: int


def encode(action_: str, report_id: int) -> str:
    return REPORT_DATA.encode(action_, report_id)


def decode(data: str | None) -> Press | None:
    """The button pressed, or None for forged, stale or foreign data."""
    read = REPORT_DATA.decode(data)
    return Press(*read) if read else None


def report_buttons(t: Catalog, report_id: int) -> InlineKeyboardMarkup:
    ref = report_ref(report_id)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("residents.button_task", ref=ref), callback_data=encode(MAKE_TASK, report_id)
                ),
                InlineKeyboardButton(
                    t("residents.button_dismiss"), callback_data=encode(DISMISS, report_id)
                ),
            ],
            [
                InlineKeyboardButton(
                    t("residents.button_block"), callback_data=encode(ASK_BLOCK, report_id)
                )
            ],
        ]
    )


def report_markup(report_id: int, lang: str) -> str:
    """A new report's buttons, as Bot API JSON for the outbox."""
    return report_buttons(catalog(lang), report_id).to_json()


def _location_button(me: Who) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(me.t("residents.button_location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


# -- a resident ------------------------------------------------------------------------------


@action
async def report(update: Update, context: Context, me: Who) -> None:
    """/report [TEXT]: ask for the location (anyone, guests too, in a private chat)."""
    await service(context).ask_report(me.person, " ".join(args_of(context)), me.private)
    await reply(update, context, me.t("residents.ask"), reply_markup=_location_button(me))


@action
async def location(update: Update, context: Context, me: Who) -> None:
    """A shared location: a report when /report waits for one, else a check-in."""
    message = update.effective_message
    if (
        message is None
        or message.location is None
        or not me.private
        or update.edited_message is not None  # a live location ticking: never a report
    ):
        await checkin.location(update, context)
        return
    svc = service(context)
    lat, lon = message.location.latitude, message.location.longitude
    made = await svc.report_at(me.person, lat, lon, report_markup, update.update_id)
    if made is None:
        await checkin.location(update, context)
        return
    await reply(update, context, _made_text(me.t, made), reply_markup=ReplyKeyboardRemove())
    if made.outcome == ReportOutcome.NEW:
        deliver_soon(context)


def _made_text(t: Catalog, made: ReportMade) -> str:
    found = made.report
    assert found is not None
    ref = report_ref(found.id)
    if made.outcome == ReportOutcome.JOINED:
        return t("residents.joined", ref=ref, street=found.street, count=found.reporters)
    if made.outcome == ReportOutcome.ALREADY:
        return t("residents.already", ref=ref, street=found.street)
    text = t("residents.made", ref=ref, street=found.street, district=found.district)
    if not found.text or not found.photo_file_id:
        text += "\n" + t("residents.add_hint", minutes=limits.REPORT_DESCRIBE_SECONDS // 60)
    return text


@action
async def plain_text(update: Update, context: Context, me: Who) -> None:
    """Text in a private chat: a word that does what a command does (docs/commands.md "Chinese as
    people type it": 认领 5, 任务, 求助 …), a waiting /report's description, or one for the report
    just made; 签到, 签退 and the rest go to check-in."""
    message = update.effective_message
    if message is None or not message.text or not me.private:
        return
    text = message.text
    word = words.read(text)
    described = word is None and not checkin.means_checking(text)
    if described and await _described(update, context, me, text, None):
        return
    if word is None:
        await checkin.plain_text(update, context)
    elif word[0] == "求助":  # /report, as a word
        context.args = word[1]
        await report(update, context)
    else:
        await words.run(update, context, *word)


@action
async def photo(update: Update, context: Context, me: Who) -> None:
    """A photo in a private chat (not captioned /done): kept (its file id only) with a
    waiting /report or the report just made; captioned /report, it starts one."""
    message = update.effective_message
    if message is None or not message.photo or not me.private:
        return
    caption = message.caption or ""
    file_id = message.photo[-1].file_id
    svc = service(context)
    asked = _REPORT_CAPTION.match(caption)
    if asked:
        await svc.ask_report(me.person, asked.group(1) or "", me.private)
        await svc.add_to_waiting_report(me.person, "", file_id)
        await reply(update, context, me.t("residents.ask"), reply_markup=_location_button(me))
        return
    if not await _described(update, context, me, caption, file_id):
        await reply(update, context, me.t("residents.photo_hint"))


async def _described(
    update: Update, context: Context, me: Who, text: str, file_id: str | None
) -> bool:
    """Keep text or a photo with a waiting /report, or as the new report's description."""
    svc = service(context)
    if await svc.waiting_report(me.person):
        await svc.add_to_waiting_report(me.person, text, file_id)
        await reply(update, context, me.t("residents.noted"), reply_markup=_location_button(me))
        return True
    described = await svc.describe(me.person, text, file_id)
    if described is None:
        return False
    deliver_soon(context)
    await reply(update, context, me.t("residents.described_ok", ref=report_ref(described.id)))
    return True


# -- a dispatcher ----------------------------------------------------------------------------


@action
async def reports(update: Update, context: Context, me: Who) -> None:
    """/reports [DISTRICT]: open reports, most reporters first, with their buttons."""
    found, district = await service(context).open_reports(me.person, " ".join(args_of(context)))
    if not found:
        await reply(
            update, context, me.t("residents.none", district=district or me.t("residents.city"))
        )
        return
    shown = found[: limits.REPORTS_LISTED]
    lines = [
        me.t("residents.header", count=len(found), district=district or me.t("residents.city"))
    ]
    lines.extend(_line(me.t, r) for r in shown)
    if len(found) > len(shown):
        lines.append(me.t("residents.more_listed", count=len(found) - len(shown)))
    rows = [
        [
            InlineKeyboardButton(
                me.t("residents.button_task", ref=report_ref(r.id)),
                callback_data=encode(MAKE_TASK, r.id),
            ),
            InlineKeyboardButton(
                me.t("residents.button_dismiss_ref", ref=report_ref(r.id)),
                callback_data=encode(DISMISS, r.id),
            ),
        ]
        for r in shown
    ]
    await reply(update, context, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


def _line(t: Catalog, found: Report) -> str:
    line = t(
        "residents.line",
        ref=report_ref(found.id),
        street=found.street,
        district=found.district,
        count=found.reporters,
    )
    if found.text:
        line += "\n" + t("residents.text", text=found.text)
    if found.photo_file_id:
        line += " " + t("residents.photo")
    return line


async def button(update: Update, context: Context) -> None:
    """Make task, Dismiss, Block (asked, then confirmed) under a report."""
    read = await pressed(update, context, decode)
    if read is None:
        return
    query, me, press = read
    try:
        if press.action == MAKE_TASK:
            await _make_task(update, context, me, press.report_id)
        elif press.action == DISMISS:
            await service(context).dismiss_report(me.person, press.report_id, block=False)
            await _decided(
                update,
                context,
                me.t("residents.dismissed_ok", ref=report_ref(press.report_id)),
                press.report_id,
            )
        elif press.action == ASK_BLOCK:
            await _ask_block(update, context, me, press.report_id)
        else:
            await service(context).dismiss_report(me.person, press.report_id, block=True)
            await _decided(
                update,
                context,
                me.t("residents.blocked_ok", ref=report_ref(press.report_id)),
                press.report_id,
            )
    except Refused as refused:
        await answer_press(query, me.t(refused.key, **localised(me.t, refused.params)), alert=True)


async def _make_task(update: Update, context: Context, me: Who, report_id: int) -> None:
    svc = service(context)
    decided = await svc.task_from_report(
        me.person, report_id, here=me.chat_id, origin=update.update_id
    )
    task = decided.task
    assert task is not None
    await _decided(
        update,
        context,
        me.t("residents.tasked_ok", ref=report_ref(report_id), id=task.id),
        report_id,
    )
    reply_task(update, context, me, "newtask.posted", task.id)


async def _ask_block(update: Update, context: Context, me: Who, report_id: int) -> None:
    """Blocking is asked again, in the chat, with its own button: nobody blocks by a slip."""
    found = await service(context).report_for(me.person, report_id)
    query = update.callback_query
    assert query is not None
    await answer_press(query)
    ref = report_ref(found.id)
    confirm = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    me.t("residents.button_block_confirm", ref=ref),
                    callback_data=encode(BLOCK, found.id),
                )
            ]
        ]
    )
    await reply(
        update,
        context,
        me.t("residents.block_ask", ref=ref, street=found.street),
        reply_markup=confirm,
    )


async def _decided(update: Update, context: Context, text: str, report_id: int) -> None:
    """Answer the press; the pressed message loses its buttons if they were only this
    report's (a /reports list keeps the others'); the reporters' word goes out."""
    query = update.callback_query
    assert query is not None
    await answer_press(query, text)
    deliver_soon(context)
    message = query.message
    if isinstance(message, Message) and _only_about(message, report_id):
        pressed_on = message

        async def unbutton() -> None:
            try:
                await context.bot.edit_message_reply_markup(
                    chat_id=pressed_on.chat.id, message_id=pressed_on.message_id, reply_markup=None
                )
            except TelegramError as exc:
                log.warning("removing the buttons of %s failed: %s", report_ref(report_id), exc)

        await after_commit(unbutton)
    elif message is not None:
        await say(update, context, message.chat.id, text)


def _only_about(message: Message, report_id: int) -> bool:
    markup = message.reply_markup
    if markup is None:
        return False
    presses = [decode(str(b.callback_data)) for row in markup.inline_keyboard for b in row]
    return all(p is not None and p.report_id == report_id for p in presses)
