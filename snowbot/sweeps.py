"""The scheduler's work (README: "The scheduler"): find what is due in the database and
queue its messages.

Each sweep is idempotent. What it decides comes from `snowbot.schedule`; what it
owes a chat goes into the outbox in the same transaction as any change it makes
(a closed shift), under a key the outbox accepts once. So a sweep that runs twice,
or again after a restart, sends nothing twice and forgets nothing due.
Sending is the Telegram adapter's job (`handlers.delivery`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from snowbot import schedule
from snowbot.config import ScheduleConfig
from snowbot.model import Outgoing, Shift, Task
from snowbot.render import duration, render_day, render_report
from snowbot.schedule import Care
from snowbot.service import Snowbot
from snowbot.texts import Catalog, catalog

# The report jobs are timed to the start of their period and may fire a few
# milliseconds early; the decision they take must already see the new period.
EARLY_TOLERANCE = 0.5


@dataclass(frozen=True)
class Swept:
    """How many messages each kind of sweep queued."""

    reports: int = 0
    daily: int = 0
    escalations: int = 0
    warnings: int = 0
    closed: int = 0

    @property
    def total(self) -> int:
        return self.reports + self.daily + self.escalations + self.warnings + self.closed


class Sweeps:
    def __init__(self, service: Snowbot) -> None:
        self.service = service

    @property
    def _schedule(self) -> ScheduleConfig:
        return self.service.config.schedule

    def _period_now(self) -> float:
        """The time for deciding which report period it is."""
        return self.service.clock() + EARLY_TOLERANCE

    async def everything(self) -> Swept:
        """All that is due now: run at start-up and by the periodic sweep."""
        reports = await self.tally_report()
        daily = await self.daily_report()
        escalations = await self.escalations()
        warnings, closed = await self.welfare()
        await self.service.forget_old_updates()  # keeps the record of updates bounded
        return Swept(reports, daily, escalations, warnings, closed)

    # -- reports -----------------------------------------------------------------

    async def tally_report(self) -> int:
        """The tally and the unserved streets for the current period, to every report chat."""
        now = self._period_now()
        tz = self.service.config.city.timezone
        key = schedule.tally_key(schedule.tally_slot(now, self._schedule.tally_every, tz))
        chats = await self.service.report_chats()
        if not chats or await self.service.already_queued(key):
            return 0
        tally = await self.service.tally()
        return await self._queue_for(chats, key, lambda t: render_report(t, tally, tz))

    async def daily_report(self) -> int:
        """Today's summary, once its time of day has come."""
        now = self._period_now()
        tz = self.service.config.city.timezone
        at = self._schedule.daily_report_at
        day = schedule.daily_due(now, at, tz)
        if day is None:
            return 0
        key = schedule.daily_key(day)
        chats = await self.service.report_chats()
        if not chats or await self.service.already_queued(key):
            return 0
        incident = await self.service.incident()
        since, until = schedule.day_window(day, at, tz)
        since = max(since, incident.started_at)
        counts = await self.service.day_counts(since, until)
        tally = await self.service.tally()
        return await self._queue_for(
            chats, key, lambda t: render_day(t, tally, counts, since, until, tz)
        )

    async def _queue_for(self, chats: list[int], key: str, render: Callable[[Catalog], str]) -> int:
        """Queue one report to each chat, in its language; each language rendered once."""
        texts: dict[str, str] = {}
        messages = []
        for chat in chats:
            lang = await self.service.chat_language(chat)
            if lang not in texts:
                texts[lang] = render(catalog(lang))
            messages.append(Outgoing(key, chat, lang, text=texts[lang]))
        return await self.service.queue(messages)

    # -- tasks nobody took ---------------------------------------------------------

    async def escalations(self) -> int:
        """Re-announce each task nobody accepted for a whole period, and tell its dispatcher."""
        now = self.service.clock()
        usual = self._schedule.escalate_unaccepted_after
        queued = 0
        # urgent tasks are chased after half the usual wait, the others after all of it
        for task in await self.service.unaccepted_tasks(now - usual.total_seconds() / 2):
            after = usual / 2 if task.urgent else usual
            if task.created_at > now - after.total_seconds():
                continue
            key = schedule.escalate_key(
                task.id, schedule.escalation_round(task.created_at, now, after)
            )
            if await self.service.already_queued(key):
                continue
            messages = await self._escalation(task, key)
            queued += await self.service.escalate(task.id, messages)
        return queued

    async def _escalation(self, task: Task, key: str) -> list[Outgoing]:
        groups = await self.service.chats_for_district(task.district_id)
        messages = [
            Outgoing(
                key,
                chat,
                await self.service.chat_language(chat),
                task_id=task.id,
                template="escalate.announce",
            )
            for chat in groups
        ]
        lang = await self.service.chat_language(task.created_by)
        t = catalog(lang)
        params = {
            "id": task.id,
            "street": task.street,
            "district": task.district,
            "waited": duration(t, self.service.clock() - task.created_at),
        }
        text = (
            t("escalate.dispatcher", groups=len(groups), **params)
            if groups
            else t("escalate.dispatcher_no_group", **params)
        )
        messages.append(Outgoing(key, task.created_by, lang, text=text))
        return messages

    # -- people in the cold ----------------------------------------------------------

    async def welfare(self) -> tuple[int, int]:
        """Warn cadres whose shift nears max_shift; close the shifts that reached it.

        Returns (reminders queued, shifts closed).
        """
        now = self.service.clock()
        max_shift = self._schedule.max_shift
        warn_from = now - (max_shift - schedule.welfare_lead(max_shift)).total_seconds()
        warned = closed = 0
        for shift in await self.service.overdue_shifts(warn_from):
            care = schedule.shift_care(shift.welfare_from, now, max_shift)
            if care == Care.CLOSE:
                closed += await self._close(shift)
            elif care == Care.WARN:
                warned += await self._warn(shift)
        return warned, closed

    async def _warn(self, shift: Shift) -> int:
        key = schedule.warn_key(shift.id, shift.welfare_from)
        if await self.service.already_queued(key):
            return 0
        lang = await self.service.chat_language(shift.user_id)
        t = catalog(lang)
        on_duty = self.service.clock() - shift.welfare_from
        left = round(self._schedule.max_shift.total_seconds() - on_duty)
        text = t("welfare.warning", duration=duration(t, on_duty), left=duration(t, max(left, 1)))
        message = Outgoing(key, shift.user_id, lang, text=text)
        return await self.service.warn_shift(shift, [message])

    async def _close(self, shift: Shift) -> int:
        lang = await self.service.chat_language(shift.user_id)
        t = catalog(lang)
        text = t(
            "welfare.closed",
            duration=duration(t, self.service.clock() - shift.welfare_from),
            count=shift.headcount,
        )
        held = await self.service.held_tasks(shift.user_id)
        if held:  # the shift's places go back to their tasks as it closes (SPEC §2 "Places")
            text += "\n" + t("places.gave_back", tasks=" ".join(f"#{task.id}" for task in held))
        message = Outgoing(
            schedule.closed_key(shift.id, shift.welfare_from), shift.user_id, lang, text=text
        )
        closed = await self.service.close_overdue_shift(shift, [message])
        return 0 if closed is None else 1
