"""/invite, /invites, /uninvite, joining through an invitation link, and the dispatchers'
Confirm / Refuse buttons on a large team's check-in (docs/security.md)."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from handlers.buttons import CONFIRM, MAX_DATA, team_buttons
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
from handlers.jobs import deliver_soon
from handlers.menus import help_for
from snowbot.domain.model import Invitation
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.text.texts import catalog

log = logging.getLogger("snowbot.enrolment")


def invite_link(context: Context, code: str) -> str:
    """The deep link that starts this bot with the code (the bot's name from getMe)."""
    return f"https://t.me/{context.bot.username}?start={code}"


def team_markup(request_id: int, lang: str) -> str:
    """The Confirm / Refuse buttons of a team request, as Bot API JSON for the outbox."""
    return team_buttons(catalog(lang), request_id).to_json()


@action
async def invite(update: Update, context: Context, me: Who) -> None:
    svc = service(context)
    try:
        invitation, district = await svc.invite(me.person, args_of(context))
    except Refused as refused:
        offer = refused.params.pop("offer", None)
        if offer is None or not me.private:
            raise
        # in a private chat, the districts the name may mean: one press makes the link
        ids, numbers = offer
        names = refused.params["suggestions"]
        rows = [
            [InlineKeyboardButton(n, callback_data=invite_data(i, **numbers))]
            for i, n in zip(ids, names, strict=True)
        ]
        text = me.t(refused.key, **localised(me.t, refused.params))
        await reply(update, context, text, reply_markup=InlineKeyboardMarkup(rows))
        return
    await _made(update, context, me, invitation, district)


async def _made(
    update: Update, context: Context, me: Who, invitation: Invitation, district: str | None
) -> None:
    await reply(
        update,
        context,
        me.t(
            "invite.made",
            link=invite_link(context, invitation.code),
            district=district or me.t("invite.no_district"),
            uses=invitation.uses,
            until=_when(context, invitation.expires_at),
            code=invitation.code,
        ),
    )


# "i1|<district id>|<uses>|<hours>": /invite finished on a suggested district (docs/commands.md
# "Chinese as people type it"). Its own version; everything in it is checked again by the service
# when pressed.
INVITE_PATTERN = r"^i1\|"
_INVITE_DATA = re.compile(r"i1\|([0-9]{1,9})\|([0-9]{1,4})\|([0-9]{1,3})")


def invite_data(district_id: int, uses: int, hours: int) -> str:
    return f"i1|{district_id}|{uses}|{hours}"


def read_invite_data(data: str | None) -> tuple[int, int, int] | None:
    """(district id, uses, hours), or None for forged, stale or foreign data."""
    match = _INVITE_DATA.fullmatch(data or "") if data and len(data) <= MAX_DATA else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


async def invite_press(update: Update, context: Context) -> None:
    """A suggested district pressed under a refused /invite: the invitation, made now."""
    read = await pressed(update, context, read_invite_data)
    if read is None:
        return
    query, me, (district_id, uses, hours) = read
    svc = service(context)
    name = svc.directory.district_names.get(district_id)
    try:
        if name is None:
            raise Refused("button.stale")
        invitation, district = await svc.invite(me.person, [name, str(uses), str(hours)])
    except Refused as refused:
        await answer_press(query, me.t(refused.key, **localised(me.t, refused.params)), alert=True)
        return
    await answer_press(query)
    await _made(update, context, me, invitation, district)


@action
async def invites(update: Update, context: Context, me: Who) -> None:
    svc = service(context)
    live = await svc.invitations(me.person)
    if not live:
        await reply(update, context, me.t("invite.none"))
        return
    lines = [me.t("invite.header", count=len(live))]
    lines.extend(_line(context, me, i) for i in live)
    await reply(update, context, "\n".join(lines))


def _line(context: Context, me: Who, invitation: Invitation) -> str:
    district = service(context).district_name(invitation.district_id)
    return me.t(
        "invite.line",
        code=invitation.code,
        district=district or me.t("invite.no_district"),
        left=invitation.uses_left,
        uses=invitation.uses,
        until=_when(context, invitation.expires_at),
        by=invitation.created_by,
    )


def _when(context: Context, moment: float) -> str:
    tz = service(context).config.city.timezone
    return datetime.fromtimestamp(moment, tz).strftime("%Y-%m-%d %H:%M")


@action
async def uninvite(update: Update, context: Context, me: Who) -> None:
    code = await service(context).uninvite(me.person, args_of(context))
    await reply(update, context, me.t("invite.ended", code=code))


async def join(update: Update, context: Context, me: Who, code: str) -> None:
    """/start CODE: a guest who came through an invitation link becomes a cadre."""
    district = await service(context).join(me.person, code)
    welcome = (
        me.t("invite.joined")
        if district is None
        else me.t("invite.joined_district", district=district)
    )
    await reply(update, context, welcome + "\n\n" + help_for(context, me.t, Role.CADRE))


async def team_press(update: Update, context: Context, me: Who, action_: str, request: int) -> str:
    """A dispatcher pressed Confirm or Refuse under a large team's check-in: what to tell
    them (a `Refused` when it did not take effect)."""
    confirm = action_ == CONFIRM
    decided = await service(context).decide_team(me.person, request, confirm)
    deliver_soon(context)  # the leader's word
    query = update.callback_query
    message = query.message if query else None
    if message is not None:

        async def unbutton() -> None:  # the buttons go: the request is decided
            try:
                await context.bot.edit_message_reply_markup(
                    chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
                )
            except TelegramError as exc:
                log.warning("removing the buttons of team request %s failed: %s", request, exc)

        await after_commit(unbutton)
    key = "team.done_confirmed" if confirm else "team.done_refused"
    return me.t(key, count=decided.headcount)
