"""The scheduler's work (docs/commands.md "The scheduler"): find what is due in the database and
queue its messages.

Each sweep is idempotent. What it decides comes from `snowbot.domain.schedule`; what it
owes a chat goes into the outbox in the same transaction as any change it makes
(a closed shift), under a key the outbox accepts once. So a sweep that runs twice,
or again after a restart, sends nothing twice and forgets nothing due.
Sending is the Telegram adapter's job (`handlers.delivery`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from snowbot.domain import schedule
from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Shift, Task
from snowbot.domain.schedule import Care
from snowbot.domain.tally import Tally
from snowbot.service import Snowbot
from snowbot.settings.config import ScheduleConfig
from snowbot.text.render import duration, render_day, render_report
from snowbot.text.texts import Catalog, catalog

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
    closing: int = 0  # messages of closing reports a crash had kept from being queued

    @property
    def total(self) -> int:
        return (
            self.reports + self.daily + self.escalations + self.warnings + self.closed
        ) + self.closing


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
        closing = await self.service.queue_closing_reports()
        await self.service.prune_seen_updates()  # once an hour: keeps the record bounded
        return Swept(reports, daily, escalations, warnings, closed, closing)

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
        # which day of the storm it is, and today's turnout beside the incident's
        began = max(schedule.day_began(now, tz), tally.incident.started_at)
        today = (await self.service.day_counts(began, now)).person_times
        day = schedule.storm_day(tally.incident.started_at, now, tz)
        return await self._queue_for(
            chats, key, lambda t: render_report(t, tally, tz, (day, today)), supersedes="tally:"
        )

    async def daily_report(self) -> int:
        """Each day's summary once its time of day has come: after downtime, every day the
        incident missed, oldest first, once each (a day's numbers are its own record)."""
        now = self._period_now()
        tz = self.service.config.city.timezone
        at = self._schedule.daily_report_at
        incident = await self.service.incident()
        days = schedule.daily_due_days(now, at, tz, incident.started_at)
        # days are queued oldest first: when the newest is queued, none is missing
        if not days or await self.service.already_queued(schedule.daily_key(days[-1])):
            return 0
        chats = await self.service.report_chats()
        if not chats:
            return 0
        tally = await self.service.tally()
        queued = 0
        for day in days:
            if not await self.service.already_queued(schedule.daily_key(day)):
                queued += await self._queue_day(chats, tally, day)
        return queued

    async def _queue_day(self, chats: list[int], tally: Tally, day: date) -> int:
        tz, at = self.service.config.city.timezone, self._schedule.daily_report_at
        started = tally.incident.started_at
        since, until = schedule.day_window(day, at, tz)
        since = max(since, started)
        counts = await self.service.day_counts(since, until)
        # where the incident stood at the end of that day, not now
        upto = await self.service.day_counts(started, until)
        then = replace(tally, person_times=upto.person_times, streets_served=upto.streets_served)
        number = schedule.storm_day(started, until, tz)
        return await self._queue_for(
            chats,
            schedule.daily_key(day),
            lambda t: render_day(t, then, counts, since, until, tz, number),
            supersedes="tally:",  # its totals are newer than any tally still waiting
        )

    async def _queue_for(
        self,
        chats: list[int],
        key: str,
        render: Callable[[Catalog], str],
        supersedes: str | None = None,
    ) -> int:
        """Queue one report to each chat, in its language; each language rendered once.

        `supersedes`: the report drops the older ones of that kind still waiting for
        the chat (after an outage only the newest numbers are worth reading)."""
        texts: dict[str, str] = {}
        messages = []
        for chat in chats:
            lang = await self.service.chat_language(chat)
            if lang not in texts:
                texts[lang] = render(catalog(lang))
            messages.append(Outgoing(key, chat, lang, text=texts[lang], supersedes=supersedes))
        return await self.service.queue_reports(messages)

    # -- tasks nobody took ---------------------------------------------------------

    async def escalations(self) -> int:
        """Re-announce each task nobody accepted, backing off (after 1, 2, 4 … periods, at
        most `escalate_max` times), and tell its dispatcher. In quiet hours only the
        dispatcher is told; the groups hear of the task when the quiet hours end."""
        now = self.service.clock()
        usual = self._schedule.escalate_unaccepted_after
        most = self._schedule.escalate_max
        tz = self.service.config.city.timezone
        quiet = schedule.quiet_until(now, self._schedule.quiet_hours, tz)
        queued = 0
        # urgent tasks are chased after half the usual wait, the others after all of it
        for task in await self.service.unaccepted_tasks(now - usual.total_seconds() / 2):
            after = usual / 2 if task.urgent else usual
            round_ = schedule.escalation_round(task.created_at, now, after, most)
            if round_ == 0:
                continue
            notice_key = schedule.escalate_key(task.id, round_)
            groups_key = schedule.reannounce_key(task.id, round_)
            notice = not await self.service.already_queued(notice_key)
            groups = quiet is None and not await self.service.already_queued(groups_key)
            if not notice and not groups:
                continue
            messages = await self._escalation(task, round_, notice, groups, quiet)
            queued += await self.service.escalate(task.id, messages)
        return queued

    async def _escalation(
        self, task: Task, round_: int, notice: bool, announce: bool, quiet: float | None
    ) -> list[Outgoing]:
        groups = await self.service.chats_for_district(task.district_id)
        key = schedule.reannounce_key(task.id, round_)
        messages = [
            Outgoing(
                key,
                chat,
                await self.service.chat_language(chat),
                task_id=task.id,
                template="escalate.announce",
            )
            for chat in (groups if announce else [])
        ]
        if not notice:
            return messages
        lang = await self.service.chat_language(task.created_by)
        t = catalog(lang)
        params = {
            "id": task.id,
            "street": task.street,
            "district": task.district,
            "waited": duration(t, self.service.clock() - task.created_at),
        }
        if not groups:
            text = t("escalate.dispatcher_no_group", **params)
        elif quiet is not None:
            until = datetime.fromtimestamp(quiet, self.service.config.city.timezone)
            text = t("storm.escalate_quiet", until=until.strftime("%H:%M"), **params)
        else:
            text = t("escalate.dispatcher", groups=len(groups), **params)
        if round_ >= self._schedule.escalate_max:
            text += "\n" + t("storm.escalate_last", id=task.id)
        key = schedule.escalate_key(task.id, round_)
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
        if held:  # the shift's places go back to their tasks as it closes (docs/commands.md
            # "Places")
            text += "\n" + t("places.gave_back", tasks=" ".join(f"#{task.id}" for task in held))
        message = Outgoing(
            schedule.closed_key(shift.id, shift.welfare_from), shift.user_id, lang, text=text
        )
        closed = await self.service.close_overdue_shift(shift, [message])
        return 0 if closed is None else 1
