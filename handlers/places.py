"""Places on tasks (docs/commands.md "Places"): /accept ID [N] and /release ID [N], their replies,
the Release button, and the line telling a leader how many of the team are free."""

from __future__ import annotations

from telegram import Update

from handlers.announce import refresh
from handlers.buttons import placed_buttons
from handlers.common import Context, Who, action, args_of, reply, service
from handlers.jobs import deliver_soon
from snowbot.domain import limits
from snowbot.domain.places import PlaceChange, Placement
from snowbot.domain.refusals import Refused
from snowbot.service import parse_count, parse_task_id
from snowbot.text.render import task_line
from snowbot.text.texts import Catalog


def id_and_count(context: Context, usage: str) -> tuple[int, int | None]:
    """`ID [N]` as typed: a task id, and a number of places if one is given."""
    args = args_of(context)
    if not args or len(args) > 2:
        raise Refused(usage)
    count = parse_count(args[1], limits.MAX_TEAM, "places.bad_count") if len(args) > 1 else None
    return parse_task_id(args[0]), count


def taken_text(t: Catalog, change: PlaceChange) -> str:
    """The reply to an accept: the places taken and, for a team, who is still free."""
    assert change.task is not None
    placed = change.placement
    if placed is None or placed.headcount == 1:
        return t("accept.ok", id=change.task.id)
    return t(
        "places.taken",
        id=change.task.id,
        taken=change.moved,
        accepted=change.task.accepted,
        needed=change.task.needed,
        free=placed.free,
        count=placed.headcount,
    )


def released_text(t: Catalog, change: PlaceChange) -> str:
    """The reply to a release: the places given back, who is free now, and whether the task
    went back to the pool."""
    assert change.task is not None and change.placement is not None
    text = t(
        "places.released",
        id=change.task.id,
        released=change.moved,
        accepted=change.task.accepted,
        needed=change.task.needed,
        free=change.placement.free,
        count=change.placement.headcount,
    )
    if change.reopened:
        text += "\n" + t("places.back_to_pool", id=change.task.id)
    return text


def team_line(t: Catalog, placed: Placement | None) -> str | None:
    """How many of the team are free, and where the others are; None for one person
    with nothing to say (off duty, or a single cadre not placed)."""
    if placed is None or (placed.headcount == 1 and not placed.held):
        return None
    held = " ".join(f"#{task_id}×{count}" for task_id, count in placed.held)
    line = t("places.team_free", free=placed.free, count=placed.headcount)
    if held:
        line += t("places.team_held", held=held)
    return line


@action
async def release(update: Update, context: Context, me: Who) -> None:
    """`/release ID [N]`: give back N (default: all) of your places on a task."""
    task_id, count = id_and_count(context, "places.release_usage")
    svc = service(context)
    change = await svc.release(me.person, task_id, count, update.update_id)
    assert change.task is not None and change.placement is not None
    still = me.private and change.placement.on(task_id) > 0
    await reply(
        update,
        context,
        released_text(me.t, change) + "\n" + task_line(me.t, change.task),
        reply_markup=placed_buttons(me.t, change.task) if still else None,
    )
    deliver_soon(context)  # a task back in the pool is announced again
    await refresh(context.bot, svc, change.task)
