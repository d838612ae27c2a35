"""/unit, /units and their buttons (单位包保): choosing one's unit, and the per-unit table.

The buttons' callback data is this module's own, versioned and short (`v1|u|<unit id>`
joins a unit, `v1|n|<page>` pages the units to choose from, `v1|t|<page>` pages /units),
and is validated before anything is trusted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

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
    service,
)
from snowbot.domain.refusals import Refused
from snowbot.service import UnitChoice
from snowbot.service.units import parse_page
from snowbot.text.render_units import UnitsPage, pages_of, render_units
from snowbot.text.texts import Catalog

log = logging.getLogger("snowbot.domain.units")

VERSION = "v1"
JOIN, CHOOSE_PAGE, TABLE_PAGE = "u", "n", "t"
UNIT_DATA = ButtonData(VERSION, JOIN + CHOOSE_PAGE + TABLE_PAGE)
PATTERN = UNIT_DATA.pattern
UNIT_BUTTONS = 8  # units offered per page of /unit


@dataclass(frozen=True)
class Press:
    action: str
    number: int  # a unit's id, or a page (0-based)


def encode(what: str, number: int) -> str:
    return UNIT_DATA.encode(what, number)


def decode(data: str | None) -> Press | None:
    """The button pressed, or None for forged, stale or foreign data."""
    read = UNIT_DATA.decode(data)
    return Press(*read) if read else None


# -- /unit -----------------------------------------------------------------------------


def _choice_text(t: Catalog, choice: UnitChoice, page: int, private: bool = True) -> str:
    """In a group anyone may press the buttons, each for themselves: no "your unit" there."""
    lines = []
    if private:
        lines.append(
            t("unit.current", unit=choice.current.name)
            if choice.current
            else t("unit.current_none")
        )
    if not choice.units:
        lines.append(t("unit.no_units"))
        return "\n".join(lines)
    lines.append(t("unit.choose", count=len(choice.units)))
    pages = pages_of(len(choice.units), UNIT_BUTTONS)
    if pages > 1:
        lines.append(t("units.page", page=page + 1, pages=pages))
    return "\n".join(lines)


def _choice_buttons(t: Catalog, choice: UnitChoice, page: int) -> InlineKeyboardMarkup | None:
    """One button a unit, a page of them, and the way to the other pages."""
    if not choice.units:
        return None
    first = page * UNIT_BUTTONS
    current = choice.current.id if choice.current else None
    rows = [
        [
            InlineKeyboardButton(
                t("unit.button_current", unit=u.name) if u.id == current else u.name,
                callback_data=encode(JOIN, u.id),
            )
        ]
        for u in choice.units[first : first + UNIT_BUTTONS]
    ]
    nav = _pager(t, CHOOSE_PAGE, page, pages_of(len(choice.units), UNIT_BUTTONS))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def _pager(t: Catalog, what: str, page: int, pages: int) -> list[InlineKeyboardButton]:
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(t("units.prev"), callback_data=encode(what, page - 1)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(t("units.next"), callback_data=encode(what, page + 1)))
    return nav


def _page_with(choice: UnitChoice) -> int:
    """The page of /unit's buttons that shows the person's unit (the first without one)."""
    if choice.current is None:
        return 0
    at = next((i for i, u in enumerate(choice.units) if u.id == choice.current.id), 0)
    return at // UNIT_BUTTONS


@action
async def unit(update: Update, context: Context, me: Who) -> None:
    svc = service(context)
    words = args_of(context)
    if words:
        try:
            joined, made = await svc.unit_words(me.person, words)
        except Refused as refused:
            offer = refused.params.pop("offer", None)
            if not offer or not me.private:
                raise
            # in a private chat, the units it may mean: one press joins (docs/commands.md "Chinese
            # as people type it")
            buttons = [[InlineKeyboardButton(n, callback_data=encode(JOIN, i))] for i, n in offer]
            text = me.t(refused.key, **localised(me.t, refused.params))
            await reply(update, context, text, reply_markup=InlineKeyboardMarkup(buttons))
            return
        key = "unit.added" if made else "unit.joined"
        await reply(update, context, me.t(key, unit=joined.name))
        return
    choice = await svc.unit_choice(me.person)
    if not me.private:  # in a group anyone may press, each for themselves: no one's tick
        choice = UnitChoice(None, choice.units)
    page = _page_with(choice)
    await reply(
        update,
        context,
        _choice_text(me.t, choice, page, me.private),
        reply_markup=_choice_buttons(me.t, choice, page),
    )


# -- /units ----------------------------------------------------------------------------


def _table_buttons(t: Catalog, shown: UnitsPage) -> InlineKeyboardMarkup | None:
    nav = _pager(t, TABLE_PAGE, shown.page, shown.pages)
    return InlineKeyboardMarkup([nav]) if nav else None


@action
async def units(update: Update, context: Context, me: Who) -> None:
    words = args_of(context)
    tally = await service(context).tally(me.person)  # dispatchers and coordinators only
    if len(words) > 1:
        raise Refused("units.usage")
    page = parse_page(words[0]) if words else 0
    shown = render_units(me.t, tally, page)
    await reply(update, context, shown.text, reply_markup=_table_buttons(me.t, shown))


# -- the buttons -----------------------------------------------------------------------


async def button(update: Update, context: Context) -> None:
    """A unit chosen, or another page of /unit or /units."""
    read = await pressed(update, context, decode)
    if read is None:
        return
    query, me, press = read
    svc = service(context)
    try:
        if press.action == TABLE_PAGE:
            shown = render_units(me.t, await svc.tally(me.person), press.number)
            await answer_press(query)
            await _edit(query, shown.text, _table_buttons(me.t, shown))
            return
        toast = None
        if press.action == JOIN:
            joined = await svc.join_unit(me.person, press.number)
            toast = me.t("unit.joined", unit=joined.name)
        choice = await svc.unit_choice(me.person)
    except Refused as refused:
        await answer_press(query, me.t(refused.key, **localised(me.t, refused.params)), alert=True)
        return
    await answer_press(query, toast)
    message = query.message
    private = message is not None and message.chat.type == ChatType.PRIVATE
    if press.action == JOIN and not private:
        return  # the group's list stays as it is; the presser was told by the toast
    pages = pages_of(len(choice.units), UNIT_BUTTONS)
    page = _page_with(choice) if press.action == JOIN else min(press.number, pages - 1)
    listed = choice if private else UnitChoice(None, choice.units)  # no one's tick in a group
    await _edit(
        query, _choice_text(me.t, listed, page, private), _choice_buttons(me.t, listed, page)
    )


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show the pressed message's new page once the press is committed; what the press
    did stands if this fails."""

    async def show() -> None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
        except TelegramError as exc:
            log.warning("showing another page failed: %s", exc)

    await after_commit(show)
