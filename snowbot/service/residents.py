"""Residents' reports (群众求助): anyone says where snow blocks the way; the district's
dispatchers make a task of it or dismiss it; the residents hear when it is cleared.

Every decision is one storage transaction, with the messages it owes queued in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from snowbot.domain import limits
from snowbot.domain.messages import Outgoing, SentCopy
from snowbot.domain.model import Task
from snowbot.domain.refusals import Refused
from snowbot.domain.residents import (
    Report,
    ReportChange,
    ReportDecision,
    Reporter,
    ReportMade,
    ReportOutcome,
    ReportStatus,
    joinable_since,
    report_ref,
)
from snowbot.domain.roles import Role
from snowbot.service.admin import AdminService
from snowbot.service.results import Changed, Person
from snowbot.service.tasks import TaskService
from snowbot.text.texts import catalog

# The buttons under a report (Make task, Dismiss, Block), as Bot API JSON: made by the
# adapter, which owns the button format, for a report and a language.
ReportMarkup = Callable[[int, str], str]


class ResidentService(TaskService, AdminService):
    # -- a resident reports ------------------------------------------------------------

    async def ask_report(self, person: Person, text: str, private: bool) -> None:
        """`/report [TEXT]`: the next location this person shares is a report.

        Anyone may report, guests too; refused at once when blocked or over the hour's limit
        (checked again, in the database, when the location comes).
        """
        if not private:
            raise Refused("refuse.private_only")
        text = _description(text)
        now = self.clock()
        incident = await self.incident()
        blocked, recent = await self.store.report_allowance(incident.id, person.id, now)
        self._allowed(blocked, recent)
        await self.store.wait_for_report(person.id, text, None, now)

    def _allowed(self, blocked: bool, recent: int) -> None:
        if blocked:
            raise Refused("residents.blocked")
        if recent >= limits.MAX_REPORTS_PER_HOUR:
            raise Refused("residents.limit", max=limits.MAX_REPORTS_PER_HOUR)

    async def waiting_report(self, person: Person) -> bool:
        """Whether a /report of this person waits for its location."""
        since = self.clock() - limits.REPORT_WAIT_SECONDS
        return await self.store.report_wait(person.id, since) is not None

    async def add_to_waiting_report(
        self, person: Person, text: str, photo_file_id: str | None = None
    ) -> bool:
        """Text or a photo sent after /report and before the location: kept with it."""
        text = _description(text)
        since = self.clock() - limits.REPORT_WAIT_SECONDS
        return await self.store.add_to_wait(person.id, text, photo_file_id, since)

    async def report_at(
        self, person: Person, lat: float, lon: float, markup: ReportMarkup, origin: int | None
    ) -> ReportMade | None:
        """A shared location: a report when a /report waits for it (None: it is not one, so
        it is a check-in). A place too far from every street is refused as a check-in is."""
        now = self.clock()
        incident = await self.incident()
        wait = await self.store.report_wait(person.id, now - limits.REPORT_WAIT_SECONDS)
        if wait is None:
            if origin is None:
                return None
            again = await self.store.made_by_update(incident.id, origin)
            return ReportMade(ReportOutcome.NEW, again) if again else None
        street = self.street_near(lat, lon, "residents.too_far", "typed.outside_report").street
        recipients = await self._report_recipients(street.district_id)

        def notices(report_id: int) -> list[Outgoing]:
            return [
                Outgoing(
                    f"report:{report_id}",
                    chat,
                    lang,
                    text=catalog(lang)(
                        "residents.new",
                        ref=report_ref(report_id),
                        street=street.name,
                        district=street.district,
                        time=self._when(now),
                        text=_shown(catalog(lang), wait.text, wait.photo_file_id),
                    ),
                    markup=markup(report_id, lang),
                )
                for chat, lang in recipients
            ]

        made = await self.store.make_report(
            incident.id,
            person.id,
            street.id,
            lat,
            lon,
            now,
            now - limits.REPORT_WAIT_SECONDS,
            limits.REPORT_JOIN_KM,
            joinable_since(now),
            limits.MAX_REPORTS_PER_HOUR,
            notices,
            origin,
        )
        if made is not None and made.outcome in (ReportOutcome.BLOCKED, ReportOutcome.LIMITED):
            self._allowed(made.outcome == ReportOutcome.BLOCKED, limits.MAX_REPORTS_PER_HOUR)
        return made

    async def describe(
        self, person: Person, text: str, photo_file_id: str | None = None
    ) -> Report | None:
        """A text or photo just after a report: its description (once), passed on to whoever
        was told of it. None when this person made no report in the last minutes."""
        since = self.clock() - limits.REPORT_DESCRIBE_SECONDS
        report = await self.store.describable_report(person.id, since)
        if report is None:
            return None
        text = _description(text)
        if (not text or report.text) and (photo_file_id is None or report.photo_file_id):
            raise Refused("residents.described", ref=report_ref(report.id))
        messages = [
            Outgoing(
                f"report-more:{report.id}",
                chat,
                lang,
                text=catalog(lang)(
                    "residents.more",
                    ref=report_ref(report.id),
                    street=report.street,
                    text=_shown(catalog(lang), text, photo_file_id),
                ),
            )
            for chat, lang in await self._report_recipients(report.district_id)
        ]
        if not await self.store.describe_report(
            report.id, person.id, text, photo_file_id, messages, self.clock()
        ):
            raise Refused("residents.described", ref=report_ref(report.id))
        return report

    async def _report_recipients(self, district_id: int) -> list[tuple[int, str]]:
        """(chat, language) of the district's dispatchers and bound groups; when it has
        neither, the dispatchers of no district and the coordinators, so nothing is lost."""
        dispatchers = [u for u in await self.store.users_with_role(Role.DISPATCHER) if u.registered]
        chats = [u.id for u in dispatchers if u.district_id == district_id]
        chats += await self.chats_for_district(district_id)
        if not chats:
            chats = [u.id for u in dispatchers if u.district_id is None]
            chats += sorted(self.config.coordinators)
        return [(chat, await self.chat_language(chat)) for chat in dict.fromkeys(chats)]

    # -- a dispatcher decides -------------------------------------------------------------

    async def task_from_report(
        self, actor: Person, report_id: int, here: int | None = None, origin: int | None = None
    ) -> ReportDecision:
        """Make task: a task on the report's street for `[residents] task_needed` people,
        linked to it, announced like any; its reporters hear that it is on its way."""
        self.require(actor, Role.DISPATCHER)
        incident = await self.incident()
        report = await self._report(incident.id, report_id)
        self._require_district(actor, report.district_id)
        city = catalog(self.config.language)
        note = city("residents.task_note", ref=report_ref(report.id), text=report.text)
        note = note.rstrip("：: ")[: limits.MAX_NOTE]  # no words: the reference alone
        _, announce = await self._announcements(report.district_id, here)

        def notices(task: Task, people: Sequence[Reporter]) -> list[Outgoing]:
            messages = []
            for person in people:
                lang = self._language(person.language)
                text = catalog(lang)(
                    "residents.tasked", ref=report_ref(report_id), id=task.id, street=task.street
                )
                messages.append(Outgoing(f"report-tasked:{task.id}", person.user_id, lang, text))
            return messages

        decided = await self.store.task_for_report(
            incident.id,
            report_id,
            self.config.residents.task_needed,
            note,
            actor.id,
            self.clock(),
            announce,
            notices,
            origin,
            self._shown(actor, report),
        )
        return self._decided(decided, report_id)

    async def dismiss_report(self, actor: Person, report_id: int, block: bool) -> ReportDecision:
        """Dismiss: the reporters are thanked and told no crew is sent. With `block` (after
        the dispatcher confirmed it), whoever made the report may report no more this
        incident."""
        self.require(actor, Role.DISPATCHER)
        incident = await self.incident()
        report = await self._report(incident.id, report_id)
        self._require_district(actor, report.district_id)

        def notices(found: Report, people: Sequence[Reporter]) -> list[Outgoing]:
            messages = []
            for person in people:
                lang = self._language(person.language)
                # a blocked sender is not invited to report again
                key = "residents.dismissed_quiet" if block else "residents.dismissed"
                text = catalog(lang)(key, ref=report_ref(found.id), street=found.street)
                messages.append(
                    Outgoing(f"report-dismissed:{found.id}", person.user_id, lang, text)
                )
            return messages

        decided = await self.store.dismiss_report(
            incident.id,
            report_id,
            actor.id,
            self.clock(),
            block,
            notices,
            self._shown(actor, report),
        )
        return self._decided(decided, report_id)

    def _shown(
        self, actor: Person, report: Report
    ) -> Callable[[Task | None, Sequence[SentCopy]], list[Outgoing]]:
        """The decision, who took it and when, on each copy of the report sent (its Make
        task and Dismiss buttons gone, docs/commands.md "Everyone affected hears it")."""
        who = actor.user.name or str(actor.id)
        time = self._when(self.clock())

        def shown(task: Task | None, copies: Sequence[SentCopy]) -> list[Outgoing]:
            out = []
            for copy in copies:
                t = catalog(copy.language)
                ref, street = report_ref(report.id), report.street
                if task is None:
                    text = t("decided.report_dismissed", ref=ref, street=street, who=who, time=time)
                else:
                    text = t(
                        "decided.report_tasked",
                        ref=ref,
                        street=street,
                        id=task.id,
                        who=who,
                        time=time,
                    )
                key = f"report-decided:{report.id}"
                out.append(
                    Outgoing(key, copy.chat_id, copy.language, text=text, edit_of=copy.message_id)
                )
            return out

        return shown

    async def report_for(self, actor: Person, report_id: int) -> Report:
        """A report as a dispatcher of its district sees it (before asking to block)."""
        self.require(actor, Role.DISPATCHER)
        report = await self._report((await self.incident()).id, report_id)
        self._require_district(actor, report.district_id)
        return report

    async def _report(self, incident_id: int, report_id: int) -> Report:
        report = await self.store.get_report(incident_id, report_id)
        if report is None:
            raise Refused("residents.unknown", ref=report_ref(report_id))
        return report

    def _decided(self, decided: ReportDecision, report_id: int) -> ReportDecision:
        ref = report_ref(report_id)
        if decided.outcome == ReportChange.UNKNOWN or decided.report is None:
            raise Refused("residents.unknown", ref=ref)
        if decided.outcome == ReportChange.NOT_OPEN:
            status = decided.report.status
            raise Refused(f"residents.is_{status.value}", ref=ref, id=decided.report.task_id or 0)
        return decided

    async def open_reports(
        self, actor: Person, district_text: str
    ) -> tuple[list[Report], str | None]:
        """`/reports [DISTRICT]`: open reports, most reporters first (a bound dispatcher's
        own district unless another, or all, is named)."""
        self.require(actor, Role.DISPATCHER)
        district = self.district_in_view(actor, district_text)
        found = self.directory.district(district) if district else None
        incident = await self.incident()
        reports = await self.store.open_reports(incident.id, found.id if found else None)
        return reports, district

    # -- the loop closed: the task is done --------------------------------------------

    async def _done_notices(self, task: Task, now: float) -> list[Outgoing]:
        """Every reporter of the task's reports: cleared, with the street and the time."""
        messages = []
        for report, people in await self.store.reports_of_task(task.id):
            if report.status == ReportStatus.DISMISSED:
                continue
            for person in people:
                lang = self._language(person.language)
                text = catalog(lang)(
                    "residents.resolved",
                    ref=report_ref(report.id),
                    street=task.street,
                    time=self._when(now),
                    id=task.id,
                )
                messages.append(
                    Outgoing(f"report-resolved:{report.id}", person.user_id, lang, text)
                )
        return messages

    async def _cancel_notices(self, task: Task, now: float) -> list[Outgoing]:
        """Every reporter of the task's reports: the task is cancelled, the report open
        again (a report whose task is cancelled counts as open, docs/commands.md "Everyone affected
        hears it")."""
        messages = []
        for report, people in await self.store.reports_of_task(task.id):
            if report.status == ReportStatus.DISMISSED:
                continue
            for person in people:
                lang = self._language(person.language)
                text = catalog(lang)(
                    "cancelled.report",
                    ref=report_ref(report.id),
                    street=task.street,
                    id=task.id,
                )
                key = f"report-cancelled:{report.id}:{task.id}"
                messages.append(Outgoing(key, person.user_id, lang, text))
        return messages

    async def complete(
        self,
        person: Person,
        task_id: int,
        note: str | None = None,
        proof_file_id: str | None = None,
    ) -> Changed:
        changed = await super().complete(person, task_id, note, proof_file_id)
        # whoever joined a report between the notices' making and the commit: told now
        # (each reporter's message is queued once, by its key)
        done_at = changed.task.done_at or self.clock()
        late = await self._done_notices(changed.task, done_at)
        if late:
            await self.store.enqueue(late, self.clock())
        return changed

    # -- words --------------------------------------------------------------------------

    def _language(self, code: str | None) -> str:
        """A reporter's language as stored: zh or en, else the city's."""
        code = code or ""
        if code.startswith("zh"):
            return "zh"
        if code.startswith("en"):
            return "en"
        return self.config.language

    def _when(self, moment: float) -> str:
        return datetime.fromtimestamp(moment, self.config.city.timezone).strftime("%m-%d %H:%M")


def _description(text: str) -> str:
    """What a resident wrote, limited like a task's note."""
    text = " ".join(text.split())
    if len(text) > limits.MAX_NOTE:
        raise Refused("refuse.too_long", limit=limits.MAX_NOTE)
    return text


def _shown(t: Callable[..., str], text: str, photo_file_id: str | None) -> str:
    """A report's description as a dispatcher reads it."""
    parts = [t("residents.text", text=text)] if text else []
    if photo_file_id:
        parts.append(t("residents.photo"))
    return "\n".join(parts) if parts else t("residents.no_text")
