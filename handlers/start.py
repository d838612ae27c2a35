"""/start, /help and /lang: greeting, role-aware help, language."""

from __future__ import annotations

from telegram import Update

from handlers.common import Context, Who, action, args_of, reply, service
from handlers.enrolment import join
from handlers.menus import help_for, refresh_menu
from snowbot.text.texts import catalog


@action
async def start(update: Update, context: Context, me: Who) -> None:
    """/start, and /start CODE through an invitation link (a guest becomes a cadre)."""
    svc = service(context)
    args = args_of(context)
    await refresh_menu(context, me.person.id)  # their first chat with the bot, or a new role
    if args:
        await join(update, context, me, args[0])
        return
    await reply(
        update,
        context,
        me.t(
            "start.welcome",
            name=me.person.user.name or str(me.person.id),
            city=svc.config.city.display_name(me.t.language),
            role=me.t(f"role.{me.person.role.key}"),
            id=me.person.id,
            help=help_for(context, me.t, me.person.role),
        ),
    )


@action
async def whoami(update: Update, context: Context, me: Who) -> None:
    """Telegram ids, which operators need for the config: the sender's and, in a group, its."""
    text = me.t("whoami.person", id=me.person.id, role=me.t(f"role.{me.person.role.key}"))
    if not me.private:
        text += "\n" + me.t("whoami.group", id=me.chat_id)
    await reply(update, context, text)


@action
async def help_command(update: Update, context: Context, me: Who) -> None:
    await reply(update, context, help_for(context, me.t, me.person.role))


@action
async def lang(update: Update, context: Context, me: Who) -> None:
    args = args_of(context)
    svc = service(context)
    choice = args[0].lower() if len(args) == 1 else ""
    await svc.set_language(me.person, choice)
    await refresh_menu(context, me.person.id)  # their own menu, if any, in the new language
    await reply(update, context, catalog(choice)("lang.set"))


@action
async def unknown_command(update: Update, context: Context, me: Who) -> None:
    if me.private:
        await reply(update, context, me.t("refuse.unknown_command"))
