"""/tally, /unserved and /export: the live numbers, all from one computation."""

from __future__ import annotations

from telegram import Update

from handlers.common import Context, Who, action, args_of, reply, service
from snowbot.refusals import Refused
from snowbot.render import render_tally, render_unserved
from snowbot.tally import Tally


async def _tally(context: Context, me: Who) -> tuple[Tally, str | None]:
    """The tally, and the district it is about (None: the whole city)."""
    svc = service(context)
    result = await svc.tally(me.person)
    return result, svc.district_in_view(me.person, " ".join(args_of(context)))


@action
async def tally(update: Update, context: Context, me: Who) -> None:
    result, district = await _tally(context, me)
    tz = service(context).config.city.timezone
    await reply(update, context, render_tally(me.t, result, district, tz))


@action
async def unserved(update: Update, context: Context, me: Who) -> None:
    result, district = await _tally(context, me)
    await reply(update, context, render_unserved(me.t, result, district))


@action
async def export(update: Update, context: Context, me: Who) -> None:
    svc = service(context)
    files = await svc.export(me.person)  # refused unless a coordinator asks
    if not me.private:  # names and positions of people: not for a whole group to read
        raise Refused("refuse.private_only")
    incident = await svc.incident()
    message = update.effective_message
    if message is None:
        return
    for name, data in files.items():
        await message.reply_document(
            data,
            filename=name,
            do_quote=False,
            caption=me.t("export.caption", file=name, incident=incident.name),
        )
