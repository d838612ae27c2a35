"""/checkin, shared and live locations, /checkout."""

from __future__ import annotations

import re

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from handlers.buttons import accept_list
from handlers.common import Context, Who, action, args_of, reply, service
from handlers.enrolment import team_markup
from handlers.jobs import deliver_soon
from handlers.menus import help_for
from handlers.places import team_line
from snowbot.domain import limits
from snowbot.domain.model import CheckInKind
from snowbot.domain.numerals import PEOPLE_WORDS
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import parse_count
from snowbot.text.render import distance, duration, task_line


@action
async def checkin(update: Update, context: Context, me: Who) -> None:
    if not me.private:
        raise Refused("refuse.private_only")
    args = args_of(context)
    if len(args) == 2 and args[1] in PEOPLE_WORDS:  # "/checkin 25 人"
        args = args[:1]
    if len(args) > 1:
        raise Refused("checkin.bad_count", value=" ".join(args)[:20], max=limits.MAX_TEAM)
    headcount = parse_count(args[0], limits.MAX_TEAM, "checkin.bad_count") if args else 1
    await _ask_location(update, context, me, headcount, bool(args))


async def _ask_location(
    update: Update, context: Context, me: Who, headcount: int, counted: bool = False
) -> None:
    """Ask for the location; `counted` (a count was given) and on duty with another
    headcount: the headcount changes at once instead (docs/commands.md "Everyone affected hears
    it")."""
    if counted and await _resized(update, context, me, headcount):
        return
    await service(context).ask_check_in(me.person, headcount)
    await reply(
        update, context, me.t("checkin.ask", count=headcount), reply_markup=_location_button(me)
    )


async def _resized(update: Update, context: Context, me: Who, headcount: int) -> bool:
    """Whether the headcount of the shift on duty changed (or waits to): then say so."""
    svc = service(context)
    resized = await svc.resize(me.person, headcount)
    old, new = resized.old, resized.new
    if resized.outcome == "grown":
        text = me.t("resize.grown", old=old, new=new, added=new - old)
    elif resized.outcome == "shrunk":
        text = me.t("resize.shrunk", old=old, new=new, left=old - new)
        if resized.gave_back:
            held = " ".join(f"#{task_id}" for task_id in resized.gave_back)
            text += "\n" + me.t("places.gave_back", tasks=held)
    elif resized.outcome == "waiting" and resized.request is not None:
        await svc.ask_team_confirmation(resized.request, team_markup)
        limit = svc.config.access.max_team_unconfirmed
        text = me.t("resize.waiting", old=old, new=new, max=limit)
    else:  # not on duty, or the same headcount: the location is asked for as ever
        return False
    team = team_line(me.t, await svc.placement(me.person))
    if team is not None:
        text += "\n" + team
    await reply(update, context, text, reply_markup=ReplyKeyboardRemove())
    deliver_soon(context)  # a dispatcher asked, or tasks announced again
    return True


def _location_button(me: Who) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(me.t("checkin.button"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


# Words people type instead of the commands, with gloves on: "签到", "签到 5", "check in"
_CHECK_IN = re.compile(r"(?:签到|报到|check ?in)\s*(\S+?)?(?:\s*(?:个人|人|名))?", re.IGNORECASE)
_CHECK_OUT = re.compile(r"(?:签退|check ?out)", re.IGNORECASE)


def means_checking(text: str) -> bool:
    """签到 / 签退 (or check in / out) typed as words: these always go to check-in."""
    text = text.strip().rstrip("。.!！")
    return bool(_CHECK_IN.fullmatch(text) or _CHECK_OUT.fullmatch(text))


@action
async def plain_text(update: Update, context: Context, me: Who) -> None:
    """Text that is no command nor another word, in a private chat: 签到 and 签退 do what
    they say; a street typed where the location was asked for is told to share it; any
    other text gets the words the bot knows (docs/commands.md "Chinese as people type it")."""
    message = update.effective_message
    if message is None or not message.text or not me.private:
        return
    text = message.text.strip().rstrip("。.!！")
    wants_in = _CHECK_IN.fullmatch(text)
    if wants_in:
        count = wants_in.group(1)
        headcount = parse_count(count, limits.MAX_TEAM, "checkin.bad_count") if count else 1
        await _ask_location(update, context, me, headcount, bool(count))
    elif _CHECK_OUT.fullmatch(text):
        await _check_out(update, context, me)  # already met: not through @action again
    elif me.person.role == Role.GUEST:  # the location button would only be refused
        await reply(update, context, help_for(context, me.t, Role.GUEST))
    elif await service(context).check_in_waiting(me.person):  # a street typed, say
        await reply(update, context, me.t("checkin.plain_text"), reply_markup=_location_button(me))
    else:  # the words it knows (docs/commands.md "Chinese as people type it"), and the location
        # button
        await reply(update, context, me.t("typed.hint"), reply_markup=_location_button(me))


@action
async def location(update: Update, context: Context, me: Who) -> None:
    """A shared location checks in; a live location's updates only move the position."""
    message = update.effective_message
    if message is None or message.location is None or not me.private:
        return
    svc = service(context)
    lat, lon = message.location.latitude, message.location.longitude
    if update.edited_message is not None:
        # live location ticking: never opens a shift (someone who checked out keeps sharing)
        await svc.move(me.person, lat, lon)
        return
    result = await svc.check_in(me.person, lat, lon)
    t = me.t
    if result.request is not None:
        # a large team: it counts once a dispatcher confirms it
        await svc.ask_team_confirmation(result.request, team_markup)
        deliver_soon(context)
        text = t(
            "team.waiting",
            count=result.request.headcount,
            street=result.street.name,
            district=result.street.district,
            max=svc.config.access.max_team_unconfirmed,
        )
        await reply(update, context, text, reply_markup=ReplyKeyboardRemove())
        return
    assert result.shift is not None
    key = {
        CheckInKind.OPENED: "checkin.opened",
        CheckInKind.REJOINED: "checkin.rejoined",
        CheckInKind.UPDATED: "checkin.updated",
    }[result.kind]
    lines = [
        t(
            key,
            count=result.shift.headcount,
            street=result.street.name,
            district=result.street.district,
            distance=distance(t, result.km),
        )
    ]
    team = team_line(t, await svc.placement(me.person))
    if team is not None:  # a leader hears how many of the team are free to send
        lines.append(team)
    if result.nearby:
        lines.append(t("checkin.tasks_header"))
        lines.extend(task_line(t, n.task, n.km) for n in result.nearby)
    else:
        lines.append(t("checkin.no_tasks"))
    markup = accept_list(t, [n.task for n in result.nearby])
    await reply(update, context, "\n".join(lines), reply_markup=markup or ReplyKeyboardRemove())


@action
async def checkout(update: Update, context: Context, me: Who) -> None:
    await _check_out(update, context, me)


async def _check_out(update: Update, context: Context, me: Who) -> None:
    result = await service(context).check_out(me.person)
    text = me.t(
        "checkout.done", duration=duration(me.t, result.seconds), count=result.shift.headcount
    )
    if result.gave_back:  # its places went back to their tasks (docs/commands.md "Places")
        held = " ".join(f"#{task_id}" for task_id in result.gave_back)
        text += "\n" + me.t("places.gave_back", tasks=held)
        deliver_soon(context)  # tasks left with nobody are announced again, counts edited
    await reply(update, context, text, reply_markup=ReplyKeyboardRemove() if me.private else None)
