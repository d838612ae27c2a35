"""/newtask, /tasks, /accept, /done (also a photo captioned /done ID), /cancel, and the buttons."""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from handlers.announce import refresh
from handlers.buttons import (
    ACCEPT,
    CONFIRM,
    POST,
    REFUSE,
    RELEASE,
    accept_list,
    decode,
    placed_buttons,
    post_button,
    release_list,
    suggestion_buttons,
    task_buttons,
)
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
    reply_task,
    say,
    service,
)
from handlers.enrolment import team_press
from handlers.jobs import deliver_soon
from handlers.places import id_and_count, released_text, taken_text, team_line
from snowbot.domain import limits
from snowbot.domain.messages import proposal_copy
from snowbot.domain.places import PlaceChange
from snowbot.domain.refusals import Refused
from snowbot.service import Changed, Proposed, Suggested, parse_task_id
from snowbot.text.render import distance, task_line

log = logging.getLogger("snowbot.tasks")
TASKS_SHOWN = limits.TASKS_LISTED


@action
async def newtask(update: Update, context: Context, me: Who) -> None:
    svc = service(context)
    posted = await svc.post_task(
        me.person, args_of(context), here=me.chat_id, origin=update.update_id, offer=me.private
    )
    if isinstance(posted, Suggested):  # an unknown name: its likely streets, one press each
        streets = [(p.id, p.street.name, p.street.district) for p in posted.proposals]
        await reply(
            update,
            context,
            me.t(
                "typed.pick_street",
                text=posted.name,
                needed=posted.proposals[0].needed,
                **localised(me.t, {"suggestions": [p.street for p in posted.proposals]}),
            ),
            reply_markup=suggestion_buttons(me.t, streets),
            copy_key=proposal_copy(posted.proposals[0].id),
            lang=me.t.language,
        )
        return
    if isinstance(posted, Proposed) and posted.duplicate_of is not None:
        twin = posted.duplicate_of
        await reply(
            update,
            context,
            me.t(
                "newtask.duplicate",
                street=twin.street,
                minutes=max(1, round((svc.clock() - twin.created_at) / 60)),
                task=task_line(me.t, twin),
                needed=posted.needed,
            ),
            reply_markup=post_button(me.t, posted.id, posted.street.name),
            copy_key=proposal_copy(posted.id),
            lang=me.t.language,
        )
        return
    if isinstance(posted, Proposed):
        await reply(
            update,
            context,
            me.t(
                "newtask.geocoded",
                query=posted.query,
                street=posted.street.name,
                district=posted.street.district,
                distance=distance(me.t, posted.km),
                needed=posted.needed,
            ),
            reply_markup=post_button(me.t, posted.id, posted.street.name),
            copy_key=proposal_copy(posted.id),
            lang=me.t.language,
        )
        return
    task = posted.task
    reply_task(update, context, me, "newtask.posted", task.id)
    if posted.chats:
        deliver_soon(context)


@action
async def tasks(update: Update, context: Context, me: Who) -> None:
    svc = service(context)
    listed = await svc.tasks_for(me.person)
    placed = await svc.placement(me.person)
    team = team_line(me.t, placed)  # a leader sees who of the team is still free
    shown = listed[:TASKS_SHOWN]
    lines = [me.t("tasks.header", count=len(listed)) if listed else me.t("tasks.none")]
    lines.extend(task_line(me.t, n.task, n.km) for n in shown)
    if len(listed) > len(shown):
        lines.append(me.t("tasks.more", count=len(listed) - len(shown)))
    if team is not None:
        lines.append(team)
    accepts = accept_list(me.t, [n.task for n in shown])
    rows = [list(row) for row in accepts.inline_keyboard] if accepts else []
    if placed is not None and me.private:
        rows.extend(release_list(me.t, [task_id for task_id, _ in placed.held]))
    markup = InlineKeyboardMarkup(rows) if rows else None
    await reply(update, context, "\n".join(lines), reply_markup=markup)


def _task_id(context: Context, usage: str) -> tuple[int, str | None]:
    args = args_of(context)
    if not args:
        raise Refused(usage)
    note = " ".join(args[1:]) or None
    return parse_task_id(args[0]), note


@action
async def accept(update: Update, context: Context, me: Who) -> None:
    """`/accept ID [N]`: places for your shift (docs/commands.md "Places")."""
    task_id, count = id_and_count(context, "accept.usage")
    changed = await service(context).accept(me.person, task_id, count, update.update_id)
    assert changed.task is not None
    await reply(
        update,
        context,
        taken_text(me.t, changed) + "\n" + task_line(me.t, changed.task),
        reply_markup=placed_buttons(me.t, changed.task) if me.private else None,
    )
    await refresh(context.bot, service(context), changed.task)


@action
async def done(update: Update, context: Context, me: Who) -> None:
    task_id, note = _task_id(context, "done.usage")
    await _complete(update, context, me, task_id, note, None)


@action
async def done_photo(update: Update, context: Context, me: Who) -> None:
    """A photo captioned "/done ID [note]": the photo is kept as proof."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    match = re.match(r"^/done(?:@\w+)?\s+(\S+)\s*(.*)$", message.caption or "", re.S)
    if match is None:
        raise Refused("done.usage")
    task_id = parse_task_id(match.group(1))
    note = match.group(2).strip() or None
    await _complete(update, context, me, task_id, note, message.photo[-1].file_id)


async def _complete(
    update: Update, context: Context, me: Who, task_id: int, note: str | None, proof: str | None
) -> None:
    changed = await service(context).complete(me.person, task_id, note, proof)
    await reply(update, context, me.t("done.ok", id=task_id))
    deliver_soon(context)  # a far-away report queued a word for the dispatcher
    await refresh(context.bot, service(context), changed.task)


@action
async def cancel(update: Update, context: Context, me: Who) -> None:
    task_id, _ = _task_id(context, "cancel.usage")
    changed = await service(context).cancel(me.person, task_id)
    await reply(update, context, me.t("cancel.ok", id=task_id))
    await refresh(context.bot, service(context), changed.task)


@action
async def reopen(update: Update, context: Context, me: Who) -> None:
    """`/reopen ID`: a task marked done by mistake is open again (docs/commands.md "Everyone
    affected hears it")."""
    task_id, _ = _task_id(context, "reopen.usage")
    reopened = await service(context).reopen(me.person, task_id)
    task = reopened.task
    served = me.t("reopen.street_unserved" if reopened.unserved else "reopen.street_still_served")
    text = me.t("reopen.ok", id=task.id, street=task.street, needed=task.needed, served=served)
    await reply(update, context, text)
    deliver_soon(context)  # announced again in its district
    await refresh(context.bot, service(context), task)


async def button(update: Update, context: Context) -> None:
    """Accept and Done buttons, in private chats and bound groups alike."""
    read = await pressed(update, context, decode)
    if read is None:
        return
    query, me, press = read
    svc = service(context)
    if press.action == POST:
        await _post_proposal(update, context, me, press.task_id)
        return
    try:
        if press.action in (CONFIRM, REFUSE):
            await answer_press(
                query, await team_press(update, context, me, press.action, press.task_id)
            )
            return
        changed: Changed | PlaceChange
        if press.action == ACCEPT:
            changed = await svc.accept(me.person, press.task_id)
            text = taken_text(me.t, changed)
        elif press.action == RELEASE:
            changed = await svc.release(me.person, press.task_id)
            text = released_text(me.t, changed)
            deliver_soon(context)  # a task back in the pool is announced again
        else:
            changed = await svc.complete(me.person, press.task_id)
            text = me.t("done.ok", id=press.task_id)
            deliver_soon(context)
    except Refused as refused:
        await answer_press(query, me.t(refused.key, **localised(me.t, refused.params)), alert=True)
        return
    await answer_press(query, text)
    assert changed.task is not None
    announcements = await refresh(context.bot, svc, changed.task)
    message = query.message
    if message is not None and (message.chat.id, message.message_id) not in announcements:
        # a check-in reply or /tasks list is not edited: say in the chat what happened
        await say(update, context, message.chat.id, text + "\n" + task_line(me.t, changed.task))


async def _post_proposal(update: Update, context: Context, me: Who, proposal_id: int) -> None:
    """The dispatcher pressed "Post" under a geocoded /newtask: the proposal becomes the task."""
    query = update.callback_query
    assert query is not None
    svc = service(context)
    try:
        posted = await svc.post_proposal(me.person, proposal_id, here=me.chat_id)
    except Refused as refused:
        await answer_press(query, me.t(refused.key, **localised(me.t, refused.params)), alert=True)
        return
    task = posted.task
    await answer_press(query, me.t("newtask.posted_short", id=task.id))
    deliver_soon(context)
    message = query.message
    if message is None:
        return

    async def show() -> None:
        try:
            await context.bot.edit_message_text(
                me.t("newtask.posted", task=task_line(me.t, task)),
                chat_id=message.chat.id,
                message_id=message.message_id,
                reply_markup=task_buttons(me.t, task),
            )
        except TelegramError as exc:
            log.warning("showing posted #%s failed: %s", task.id, exc)
            return
        await svc.announced(task.id, message.chat.id, message.message_id)

    await after_commit(show)
