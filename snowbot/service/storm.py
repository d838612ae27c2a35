"""A six-day storm: closing an incident and its closing report, reports that supersede
older ones in the outbox, and the hourly pruning of seen updates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from snowbot.domain import limits, schedule
from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Incident
from snowbot.domain.roles import Role
from snowbot.service.core import ServiceCore
from snowbot.service.results import Person
from snowbot.text.closing import Closing, closing_facts, render_closing
from snowbot.text.export import export_csvs
from snowbot.text.export_xlsx import export_xlsx, xlsx_name
from snowbot.text.texts import catalog

log = logging.getLogger("snowbot.storm")


@dataclass(frozen=True)
class Closed:
    """What /incident close did."""

    ended: Incident | None  # None: the same update closed it before (a redelivery)
    successor: Incident  # the unnamed incident that counts from now on
    reported: bool  # a closing report was queued (an empty incident gets none)


class StormService(ServiceCore):
    # when this process last pruned the record of seen updates (None: not yet)
    _pruned_at: float | None = None
    # the CSVs of the last ended incident asked for: every chat of a closing report gets them
    _closed_files: tuple[int, dict[str, bytes]] | None = None

    # -- closing an incident ------------------------------------------------------------

    async def close_incident(self, actor: Person, origin: int | None = None) -> Closed:
        """/incident close: the current incident ends, and its closing report is owed.

        There is always a current incident (counting never stops): an unnamed successor,
        named like the first one (city and date) with the time, takes its place until a
        coordinator starts a named one with /incident start. The closing report is queued
        once the incident has ended (and by the sweep, should this process die first).
        """
        self.require(actor, Role.COORDINATOR)
        # named like the first incident, with the time, so that two of one day differ
        now = datetime.fromtimestamp(self.clock(), self.config.city.timezone)
        name = f"{self.default_incident_name()} {now:%H:%M}"
        ended, new = await self.store.start_incident(
            name, self.clock(), origin, closed_by=actor.id, tell=self.ending_notices
        )
        self._keep_incident(new)
        return Closed(ended, new, await self.queue_closing_reports() > 0)

    async def queue_closing_reports(self) -> int:
        """Queue every closing report owed (one for each ended incident), each once.

        Asked right after an incident ends and by every sweep, so that one a crash kept
        from being queued still goes out. Returns how many messages were queued.
        """
        queued = 0
        for incident_id, closed_by in await self.store.owed_closing_reports():
            queued += await self._queue_closing_report(incident_id, closed_by)
        return queued

    async def _queue_closing_report(self, incident_id: int, closed_by: int) -> int:
        closing = await self.closing_report(incident_id)
        messages: list[Outgoing] = []
        # an incident in which nothing happened (the unnamed one between two storms) is
        # not worth a report: the debt is paid with no message
        if closing is not None and not closing.empty:
            chats = [closed_by, *(c for c in await self.report_chats() if c != closed_by)]
            for chat in chats:
                messages.extend(await self._closing_messages(closing, chat))
        return await self.store.queue_closing_report(incident_id, messages, self.clock())

    async def _closing_messages(self, closing: Closing, chat: int) -> list[Outgoing]:
        lang = await self.chat_language(chat)
        t = catalog(lang)
        key = f"closing:{closing.incident.id}"
        text = render_closing(t, closing, self.config.city.timezone)
        messages = [Outgoing(key, chat, lang, text=text)]
        for name in closing.files:  # the incident's CSVs, made when they are sent
            caption = t("export.caption", file=name, incident=closing.incident.name)
            messages.append(
                Outgoing(
                    f"{key}:{name}",
                    chat,
                    lang,
                    text=caption,
                    document=name,
                    incident_id=closing.incident.id,
                )
            )
        return messages

    async def closing_report(self, incident_id: int) -> Closing | None:
        """The closing report's numbers of an incident; None for an unknown id."""
        incident = await self.store.incident_by_id(incident_id)
        if incident is None:
            return None
        return await closing_facts(
            self.store, incident, self.clock(), self.directory, self.config.city.timezone
        )

    async def incident_ids(self) -> list[int]:
        return await self.store.incident_ids()

    async def incident_file(self, incident_id: int, name: str, lang: str = "zh") -> bytes | None:
        """One CSV of an incident's export (`snowbot.text.export`), made as it is sent: for a
        closing report's attachments, and for /export (the current incident, made afresh
        for each message; an ended one's files are made once and kept, as several chats
        receive the same three). /export's workbook (`snowbot-<id>.xlsx`) is in `lang`."""
        if name == xlsx_name(incident_id):
            return await self.export_workbook(incident_id, lang)
        if self._closed_files is not None and self._closed_files[0] == incident_id:
            return self._closed_files[1].get(name)
        files = export_csvs(
            await self.store.shift_rows(incident_id),
            await self.store.task_rows(incident_id),
            self.config.city.timezone,
            await self.store.report_rows(incident_id),
        )
        incident = await self.store.incident_by_id(incident_id)
        if incident is not None and incident.ended_at is not None:
            self._closed_files = (incident_id, files)
        return files.get(name)

    async def export_workbook(self, incident_id: int, lang: str) -> bytes:
        """The incident as an Excel workbook, its words in `lang` (docs/commands.md "Chinese as
        people type it")."""
        shifts = await self.store.shift_rows(incident_id)
        tasks = await self.store.task_rows(incident_id)
        reports = await self.store.report_rows(incident_id)
        # a big storm's workbook takes a while to write: not on the event loop
        return await asyncio.to_thread(
            export_xlsx, shifts, tasks, reports, self.config.city.timezone, catalog(lang)
        )

    # -- the outbox: newer reports supersede older ones ------------------------------------

    async def queue_reports(self, messages: Sequence[Outgoing]) -> int:
        """Queue reports; each drops the older ones it supersedes still waiting for its
        chat, in the same transaction (logged, and counted for the metrics)."""
        queued, dropped = await self.store.enqueue_reports(messages, self.clock())
        if dropped:
            log.info("outbox: %d older report(s) still waiting dropped for newer ones", dropped)
        return queued

    async def superseded_reports(self) -> int:
        """How many reports were dropped unsent for newer ones (ever, for the metrics)."""
        return await self.store.outbox_superseded()

    # -- the record of seen updates ------------------------------------------------------------

    async def prune_seen_updates(self) -> int:
        """Forget updates older than two days, at most once an hour (the sweep asks often)."""
        now = self.clock()
        if not schedule.prune_due(self._pruned_at, now):
            return 0
        self._pruned_at = now
        return await self.store.forget_updates(now - limits.SEEN_UPDATES_SECONDS)
