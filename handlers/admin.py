"""/grant, /revoke, /bind, /unbind and /incident: the coordinators' and dispatchers' controls;
and a bound group that moves to a new id. Who may do what is the service's to decide."""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from handlers.common import Context, Who, action, args_of, owe, reply, service
from handlers.delivery import moved
from handlers.jobs import deliver_soon
from handlers.menus import refresh_menu
from snowbot.domain.messages import Outgoing
from snowbot.domain.refusals import Refused
from snowbot.text.texts import catalog


@action
async def grant(update: Update, context: Context, me: Who) -> None:
    granted = await service(context).grant_words(me.person, args_of(context))
    role_text = me.t(f"role.{granted.role.key}")
    if granted.district:
        text = me.t(
            "grant.ok_district", user=granted.user_id, role=role_text, district=granted.district
        )
    else:
        text = me.t("grant.ok", user=granted.user_id, role=role_text)
    if granted.district:
        told = await _tell_role(
            update,
            context,
            me,
            granted.user_id,
            "roles.granted_district",
            district=granted.district,
        )
    else:
        told = await _tell_role(update, context, me, granted.user_id, "roles.granted")
    text += "\n" + (me.t("roles.told") if told else me.t("roles.unknown_grant"))
    await refresh_menu(context, granted.user_id)
    await reply(update, context, text)


async def _tell_role(
    update: Update, context: Context, me: Who, user_id: int, key: str, **params: object
) -> bool:
    """Tell the person about their role (docs/commands.md "Everyone affected hears it": catalog
    text `key`, with who did it and the role in their language), with the answer, if they have ever
    written to the bot; whether they were told."""
    svc = service(context)
    person = await svc.person(user_id)
    if person is None or not person.user.registered:
        return False
    lang = svc.language_of(person)
    t = catalog(lang)
    by = me.person.user.name or str(me.person.id)
    text = t(key, by=by, role=t(f"role.{person.role.key}"), **params)
    owe(update, context, Outgoing("", user_id, lang, text=text))
    return True


@action
async def revoke(update: Update, context: Context, me: Who) -> None:
    svc = service(context)
    words = args_of(context)
    # an id the bot has never seen at all (not even granted a role): said to be unknown
    seen = len(words) == 1 and words[0].isascii() and words[0].isdigit()
    seen = seen and await svc.person(int(words[0])) is not None
    revoked = await svc.revoke_words(me.person, words)
    lines = [me.t("grant.revoked", user=revoked.user_id, role=me.t(f"role.{revoked.role.key}"))]
    if revoked.invitations_ended:
        lines.append(me.t("revoke.invitations_ended", count=revoked.invitations_ended))
    if await _tell_role(update, context, me, revoked.user_id, "roles.revoked"):
        lines.append(me.t("roles.told"))
    elif not seen:  # nothing they held to take back, nobody to tell
        lines = [me.t("roles.unknown_revoke", user=revoked.user_id)]
    if revoked.groups:
        lines.append(me.t("grant.revoked_groups", count=len(revoked.groups)))
        for group in revoked.groups:
            what = svc.district_name(group.district_id) or me.t("grant.city_wide")
            lines.append(me.t("grant.group", title=group.title or group.chat_id, what=what))
    await refresh_menu(context, revoked.user_id)
    await reply(update, context, "\n".join(lines))


@action
async def bind(update: Update, context: Context, me: Who) -> None:
    chat = update.effective_chat
    title = (chat.title or "") if chat else ""
    target = " ".join(args_of(context))
    district = await service(context).bind(me.person, me.chat_id, target, title, me.private)
    if district is None:
        await reply(update, context, me.t("bind.ok_all"))
    else:
        await reply(update, context, me.t("bind.ok_district", district=district))


@action
async def unbind(update: Update, context: Context, me: Who) -> None:
    district = await service(context).unbind_group(me.person, me.chat_id, me.private)
    if district is None:
        await reply(update, context, me.t("unbind.ok_all"))
    else:
        await reply(update, context, me.t("unbind.ok_district", district=district))


@action
async def incident(update: Update, context: Context, me: Who) -> None:
    args = args_of(context)
    svc = service(context)
    if not args:
        current = await svc.incident_for(me.person)
        since = datetime.fromtimestamp(current.started_at, svc.config.city.timezone)
        await reply(
            update,
            context,
            me.t("incident.show", name=current.name, since=since.strftime("%Y-%m-%d %H:%M")),
        )
        return
    if args[0].lower() in CLOSE and len(args) == 1:
        before = await svc.incident()
        closed = await svc.close_incident(me.person, origin=update.update_id)
        ended = closed.ended or before
        empty = closed.ended is not None and not closed.reported
        text = me.t(
            "storm.closed_empty" if empty else "storm.closed",
            ended=ended.name,
            id=ended.id,
            name=closed.successor.name,
        )
        await reply(update, context, text)
        if closed.reported:
            deliver_soon(context)
        return
    if args[0].lower() not in ("start", "开始") or len(args) < 2:
        await svc.incident_for(me.person)  # a cadre hears about the role, not the usage
        raise Refused("incident.usage")
    new = await svc.start_incident(me.person, " ".join(args[1:]), origin=update.update_id)
    await reply(update, context, me.t("incident.started", name=new.name))
    await _closing_reports(context)


CLOSE = ("close", "结束", "关闭")


async def _closing_reports(context: Context) -> None:
    """The ended incident's closing report goes out through the outbox, after the reply."""
    if await service(context).queue_closing_reports():
        deliver_soon(context)


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
