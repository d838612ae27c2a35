"""Who hears that a task was marked done, and what (docs/commands.md "Everyone affected hears it"):
its dispatcher and everyone else who held places on it, told who marked it (name, team size), with
the note and the proof photo if any. Rendered from the holders the marking transaction read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from snowbot.domain.messages import LANE_NOTICE, Outgoing
from snowbot.domain.model import Holder, Task
from snowbot.text.texts import catalog


@dataclass(frozen=True)
class Marking:
    """A task being marked done: by whom, with what."""

    task: Task
    by: int
    name: str
    note: str | None
    photo: str | None
    dispatcher_language: str  # the task's dispatcher's


def done_notices(
    marking: Marking, holders: Sequence[Holder], language: Callable[[str | None], str]
) -> list[Outgoing]:
    """One message to the dispatcher and one to each other holder (never to the marker)."""
    task = marking.task
    marker = next((h for h in holders if h.user_id == marking.by), None)
    chats = {task.created_by: marking.dispatcher_language}
    for h in holders:
        chats.setdefault(h.user_id, language(h.language))
    chats.pop(marking.by, None)
    out = []
    for chat, lang in chats.items():
        t = catalog(lang)
        if marker is None:
            who = marking.name
        elif marker.headcount == 1:
            who = t("marked.by_alone", name=marking.name)
        else:
            who = t("marked.by_team", name=marking.name, count=marker.headcount)
        lines = [t("marked.told", id=task.id, street=task.street, who=who)]
        if marking.note:
            lines.append(t("marked.note", note=marking.note))
        if chat == task.created_by:
            lines.append(t("marked.reopen_hint", id=task.id))
        out.append(
            Outgoing(
                f"done-told:{task.id}",
                chat,
                lang,
                text="\n".join(lines),
                lane=LANE_NOTICE,
                photo=marking.photo,
            )
        )
    return out
