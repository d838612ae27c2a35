"""/grant, /revoke, /bind and /incident: the coordinators' and dispatchers' controls;
and a bound group that moves to a new id."""

from __future__ import annotations

import re
from datetime import datetime

from telegram import Update

from handlers.common import Context, Who, action, args_of, reply, service
from handlers.delivery import moved
from snowbot.refusals import Refused
from snowbot.roles import Role


def _user_id(text: str, usage: str) -> int:
    # ASCII digits only: str.isdigit() takes "²" (which int() refuses) and int() reads
    # "١٢٣" as 123, so a look-alike could name somebody else
    if not re.fullmatch(r"[0-9]{1,15}", text) or int(text) <= 0:
        raise Refused(usage)
    return int(text)


@action
async def grant(update: Update, context: Context, me: Who) -> None:
    args = args_of(context)
    bot = service(context)
    service(context).require(me.person, Role.COORDINATOR)
    if len(args) < 2:
        raise Refused("grant.usage")
    target = _user_id(args[0], "grant.usage")
    role = Role.parse(args[1])
    if role is None:
        raise Refused("grant.bad_role", role=args[1][:30])
    district = " ".join(args[2:]) or None
    _, district_name = await bot.grant(me.person, target, role, district)
    role_text = me.t(f"role.{role.key}")
    if district_name:
        await reply(
            update,
            context,
            me.t("grant.ok_district", user=target, role=role_text, district=district_name),
        )
    else:
        await reply(update, context, me.t("grant.ok", user=target, role=role_text))


@action
async def revoke(update: Update, context: Context, me: Who) -> None:
    args = args_of(context)
    service(context).require(me.person, Role.COORDINATOR)
    if len(args) != 1:
        raise Refused("grant.revoke_usage")
    target = _user_id(args[0], "grant.revoke_usage")
    await service(context).revoke(me.person, target)
    await reply(update, context, me.t("grant.revoked", user=target))


@action
async def bind(update: Update, context: Context, me: Who) -> None:
    args = args_of(context)
    service(context).require(me.person, Role.DISPATCHER)
    if me.private:
        raise Refused("bind.group_only")
    if not args:
        raise Refused("bind.usage")
    chat = update.effective_chat
    title = (chat.title or "") if chat else ""
    district = await service(context).bind(me.person, me.chat_id, " ".join(args), title)
    if district is None:
        await reply(update, context, me.t("bind.ok_all"))
    else:
        await reply(update, context, me.t("bind.ok_district", district=district))


@action
async def incident(update: Update, context: Context, me: Who) -> None:
    args = args_of(context)
    bot = service(context)
    service(context).require(me.person, Role.COORDINATOR)
    if not args:
        current = await bot.incident()
        since = datetime.fromtimestamp(current.started_at, bot.config.city.timezone)
        await reply(
            update,
            context,
            me.t("incident.show", name=current.name, since=since.strftime("%Y-%m-%d %H:%M")),
        )
        return
    if args[0].lower() not in ("start", "开始") or len(args) < 2:
        raise Refused("incident.usage")
    new = await bot.start_incident(me.person, " ".join(args[1:]), origin=update.update_id)
    await reply(update, context, me.t("incident.started", name=new.name))


async def migrated(update: Update, context: Context) -> None:
    """A group was upgraded to a supergroup, which has a new id: what was bound follows.

    Telegram says so twice, in the old group (`migrate_to_chat_id`) and in the new one
    (`migrate_from_chat_id`); either is enough, the second changes nothing.
    """
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await moved(service(context), message.chat_id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await moved(service(context), message.migrate_from_chat_id, message.chat_id)
