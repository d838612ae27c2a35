"""The outbox from the domain's side: what a queued message says when it goes out,
and how long to wait before trying again after Telegram failed to take it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from snowbot.domain import limits
from snowbot.domain.messages import Binding, OutboxItem, Outgoing
from snowbot.domain.model import Task, TaskStatus
from snowbot.service import Snowbot
from snowbot.text.render import task_line
from snowbot.text.texts import catalog

RETRY_FIRST_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0
# While Telegram cannot be reached at all, one message knocks now and then; the wait grows
# but stays short, so that what waited goes out soon after Telegram is back.
KNOCK_FIRST_SECONDS = 1.0
KNOCK_MAX_SECONDS = 15.0


@dataclass(frozen=True)
class Letter:
    """A queued message made ready to send: its text and, for a task, the task as it is now."""

    chat_id: int
    lang: str
    text: str
    task: Task | None
    markup: str | None = None  # a queued reply's own buttons or keyboard, Bot API JSON
    document: tuple[str, bytes] | None = None  # a file (name, content), `text` its caption


def retry_delay(attempts: int) -> float:
    """Exponential backoff: 2 s, 4 s, 8 s … at most 5 minutes."""
    return min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2.0 ** min(attempts, 20))


def knock_delay(failed_rounds: int) -> float:
    """How long to wait before knocking again after `failed_rounds` rounds that got nothing
    through: 1 s, 2 s, 4 s, 8 s, then every 15 s for as long as the outage lasts."""
    return min(KNOCK_MAX_SECONDS, KNOCK_FIRST_SECONDS * 2.0 ** min(failed_rounds, 20))


async def compose(service: Snowbot, item: OutboxItem) -> Letter | None:
    """The message as it should go out now; None when its task belongs to an ended incident
    (or its document is not one an incident's export has)."""
    message = item.message
    task = None
    if message.task_id is not None:
        task = await service.task(message.task_id)
        if task is None:
            return None
    document = None
    if message.document is not None and message.incident_id is not None:
        content = await service.incident_file(message.incident_id, message.document, message.lang)
        if content is None:
            return None
        document = (message.document, content)
    if message.text is not None:
        text = message.text
    else:
        assert task is not None and message.template is not None
        text = await task_text(service, message.lang, task, message.template)
    if len(text) > limits.MAX_MESSAGE:
        text = text[: limits.MAX_MESSAGE - 1] + "…"
    return Letter(message.chat_id, message.lang, text, task, message.markup, document)


async def task_text(service: Snowbot, lang: str, task: Task, template: str) -> str:
    """A task's message as it stands: `template` (the announcement's header) while it is
    live; once done or cancelled, the decision, who took it and when (docs/commands.md "Everyone
    affected hears it")."""
    t = catalog(lang)
    if task.status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return t(template, task=task_line(t, task))
    person = await service.person(task.done_by) if task.done_by is not None else None
    who = (person.user.name if person else "") or t("decided.someone")
    tz = service.config.city.timezone
    when = datetime.fromtimestamp(task.done_at or service.clock(), tz)
    stamp = when.strftime("%m-%d %H:%M")
    header = t(f"decided.{task.status.value}", who=who, time=stamp)
    return f"{header}\n{task_line(t, task)}"


async def chat_gone(service: Snowbot, chat_id: int) -> bool:
    """A bound group removed the bot or was deleted: unbind it and tell who bound it.

    Returns False when the chat was not bound (a `report_chats` entry: logged only).
    """
    binding = await service.binding_of(chat_id)
    if binding is None:
        return False
    now = service.clock()
    key = f"unbound:{chat_id}:{now:.3f}"
    notices = []
    for user_id in await _told_about(service, binding):
        lang = await service.chat_language(user_id)
        t = catalog(lang)
        title = binding.title or str(chat_id)
        if binding.district_id is None:
            text = t("outbox.unbound_all", title=title)
        else:
            district = service.directory.district_names.get(binding.district_id, "?")
            text = t("outbox.unbound_district", title=title, district=district)
        notices.append(Outgoing(key, user_id, lang, text=text))
    return await service.unbind(chat_id, notices)


async def _told_about(service: Snowbot, binding: Binding) -> list[int]:
    """Who hears that a group is gone: whoever bound it, and the district's dispatchers
    (for a city-wide group, the coordinators)."""
    people = [binding.bound_by] if binding.bound_by > 0 else []
    if binding.district_id is not None:
        for user in await service.dispatchers():
            if user.district_id == binding.district_id and user.id not in people:
                people.append(user.id)
    else:
        people.extend(c for c in sorted(service.config.coordinators) if c not in people)
    return people
