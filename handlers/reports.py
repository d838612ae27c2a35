"""/tally, /unserved and /export: the live numbers, all from one computation."""

from __future__ import annotations

from telegram import Update

from handlers.common import Context, Who, action, args_of, reply, service
from snowbot.render import render_tally, render_unserved
from snowbot.roles import Role


@action
async def tally(update: Update, context: Context, me: Who) -> None:
    bot = service(context)
    result = await bot.tally(me.person)
    args = args_of(context)
    district = bot.district_named(" ".join(args)) if args else None
    await reply(update, render_tally(me.t, result, district, bot.config.city.timezone))


@action
async def unserved(update: Update, context: Context, me: Who) -> None:
    bot = service(context)
    result = await bot.tally(me.person)
    args = args_of(context)
    district = bot.district_named(" ".join(args)) if args else None
    await reply(update, render_unserved(me.t, result, district))


@action
async def export(update: Update, context: Context, me: Who) -> None:
    bot = service(context)
    files = await bot.export(me.person)
    incident = await bot.incident()
    message = update.effective_message
    assert message is not None and me.person.role == Role.COORDINATOR
    for name, data in files.items():
        await message.reply_document(
            data,
            filename=name,
            do_quote=False,
            caption=me.t("export.caption", file=name, incident=incident.name),
        )
