"""/tally, /unserved and /export: the live numbers, all from one computation."""

from __future__ import annotations

from telegram import Update

from handlers.common import Context, Who, action, args_of, owe, reply, service
from snowbot.domain.messages import Outgoing
from snowbot.domain.refusals import Refused
from snowbot.domain.tally import Tally
from snowbot.text.render import render_district, render_tally, render_unserved


async def _tally(context: Context, me: Who) -> tuple[Tally, str | None]:
    """The tally, and the district it is about (None: the whole city)."""
    svc = service(context)
    result = await svc.tally(me.person)
    return result, svc.district_in_view(me.person, " ".join(args_of(context)))


@action
async def tally(update: Update, context: Context, me: Who) -> None:
    result, district = await _tally(context, me)
    svc = service(context)
    text = render_tally(me.t, result, district, svc.config.city.timezone)
    if district is not None:  # the district in full: who is free, its tasks and reports
        detail = await svc.district_detail(me.person, district)
        counts = result.district(district)
        if detail is not None and counts is not None:
            text += "\n" + render_district(me.t, counts, detail)
            text += "\n" + render_unserved(me.t, result, district, per_district=5)
    await reply(update, context, text)


@action
async def unserved(update: Update, context: Context, me: Who) -> None:
    result, district = await _tally(context, me)
    await reply(update, context, render_unserved(me.t, result, district))


@action
async def export(update: Update, context: Context, me: Who) -> None:
    """The current incident's CSVs, as documents queued with the update's other replies
    (made as they are sent), so an update handled again never sends them twice."""
    incident, names = await service(context).export_files(me.person)  # coordinators only
    if not me.private:  # names and positions of people: not for a whole group to read
        raise Refused("refuse.private_only")
    for name in names:
        caption = me.t("export.caption", file=name, incident=incident.name)
        owe(
            update,
            context,
            Outgoing(
                "", me.chat_id, me.t.language, text=caption, document=name, incident_id=incident.id
            ),
        )
