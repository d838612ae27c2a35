"""Posting tasks (by street name, or geocoded and confirmed), accepting, finishing, cancelling."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

from snowbot.domain import limits
from snowbot.domain.messages import Outgoing
from snowbot.domain.model import CloseOutcome, Holder, Incident, Street, Task, TaskStatus
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service.listing import TaskListing
from snowbot.service.results import (
    Changed,
    Person,
    Posted,
    Proposed,
    Reopened,
    Suggested,
    looks_numeric,
    needed_and_note,
    task_refusal,
)
from snowbot.text.done import Marking, done_notices
from snowbot.text.render import distance as render_distance
from snowbot.text.texts import catalog

# A first word that makes a /newtask urgent: `/newtask ! 中央街 3 医院通道`
URGENT_MARKS = ("!", "！", "急", "紧急", "urgent")


class TaskService(TaskListing):
    async def post_task(
        self,
        actor: Person,
        words: list[str],
        here: int | None = None,
        origin: int | None = None,
        offer: bool = False,
    ) -> Posted | Proposed | Suggested:
        """`/newtask STREET [N] [NOTE…]` by a dispatcher or coordinator.

        The announcements to the district's groups (but not `here`, the chat it was
        posted in) are queued in the same transaction as the task. A name that is no
        street may be geocoded: then the task waits as a proposal for confirmation.
        Otherwise, with `offer` (a private chat), the streets it may mean are offered as
        proposals, one press each; without, the refusal lists them.
        """
        self.require(actor, Role.DISPATCHER)
        urgent = bool(words) and words[0].casefold() in URGENT_MARKS
        words = words[1:] if urgent else words
        if not words:
            raise Refused("newtask.usage")
        own = actor.user.district_id if actor.role == Role.DISPATCHER else None
        match = self.directory.match_leading(words, own)
        if not match.streets:
            proposed = await self._propose(actor, words, urgent)
            if proposed is not None:
                return proposed
            name, suggestions = self.name_read(words)
            if not suggestions:
                raise Refused("typed.no_street", text=name)
            mine = [s for s in suggestions if own is None or s.district_id == own]
            if not offer or not mine:
                raise Refused("newtask.unknown_street", text=name, suggestions=suggestions)
            return await self._offer(actor, words, name, mine, urgent)
        if len(match.streets) > 1:
            raise Refused(
                "newtask.ambiguous",
                text=match.streets[0].name,
                suggestions=match.streets,
            )
        street = match.streets[0]
        self._require_district(actor, street.district_id)
        needed, note = needed_and_note(match.rest)
        incident = await self.incident()
        twin = await self._recent_twin(incident, street.id, origin)
        if twin is not None:
            proposal_id = await self.store.propose_task(
                actor.id, street.id, needed, note, street.name, self.clock(), urgent
            )
            return Proposed(proposal_id, street.name, street, 0.0, needed, duplicate_of=twin)
        chats, announce = await self._announcements(street.district_id, here)
        task = await self.store.create_task(
            incident.id, street.id, needed, note, actor.id, self.clock(), announce, origin, urgent
        )
        return Posted(task, chats)

    async def _offer(
        self, actor: Person, words: list[str], name: str, streets: list[Street], urgent: bool
    ) -> Suggested:
        """Each suggested street as a proposal with the count and note typed after the name."""
        needed, note = needed_and_note(words[len(name.split(" ")) :])
        proposals = []
        for street in streets:
            proposal_id = await self.store.propose_task(
                actor.id, street.id, needed, note, name, self.clock(), urgent
            )
            proposals.append(Proposed(proposal_id, name, street, 0.0, needed))
        return Suggested(name, proposals)

    async def _recent_twin(
        self, incident: Incident, street_id: int, origin: int | None
    ) -> Task | None:
        """A live task on the street posted within the last few minutes, if any.

        Not an invariant, only a question to the dispatcher, so a read is enough. An update
        delivered again (`origin`) finds the task it made itself, and posts nothing new.
        """
        since = self.clock() - limits.DUPLICATE_TASK_SECONDS
        for task in await self.store.live_tasks(incident.id):
            # an update delivered again (`origin`) finds its own task: that is no twin
            mine = origin is not None and task.origin == origin
            if task.street_id == street_id and task.created_at >= since and not mine:
                return task
        return None

    async def _announcements(
        self, district_id: int, here: int | None
    ) -> tuple[list[int], list[Outgoing]]:
        """The district's groups (but not `here`) and a new task's announcement to each."""
        chats = [c for c in await self.chats_for_district(district_id) if c != here]
        return chats, [
            Outgoing("announce", chat, await self.chat_language(chat), template="newtask.announce")
            for chat in chats
        ]

    async def _propose(self, actor: Person, words: list[str], urgent: bool) -> Proposed | None:
        """Geocode a name that is no street and snap it to the nearest street, if configured.

        None (so: suggestions from the gazetteer) when there is no geocoder, or it is
        slow, fails, finds nothing, or finds a place far from every street.
        """
        if self.geocoder is None:
            return None
        place = list(itertools.takewhile(lambda w: not looks_numeric(w), words))
        needed, note = needed_and_note(words[len(place) :])
        query = " ".join(place)[: limits.MAX_GEOCODE_QUERY]
        if not query:
            return None
        try:
            found = await asyncio.wait_for(
                self.geocoder.locate(query, self.directory.box()),
                timeout=self.config.geo.geocoder_timeout.total_seconds(),
            )
        except TimeoutError:
            return None
        max_km = self.config.geo.max_distance_km
        nearest = self.directory.nearest(*found, max_km) if found else None
        if nearest is None or nearest.km > max_km:
            return None
        self._require_district(actor, nearest.street.district_id)
        proposal_id = await self.store.propose_task(
            actor.id, nearest.street.id, needed, note, query, self.clock(), urgent
        )
        return Proposed(proposal_id, query, nearest.street, nearest.km, needed)

    async def post_proposal(
        self, actor: Person, proposal_id: int, here: int | None = None
    ) -> Posted:
        """The dispatcher confirms a geocoded task: it is posted, once."""
        self.require(actor, Role.DISPATCHER)
        found = await self.store.proposal(proposal_id)
        if (
            found is None
            or found.dispatcher_id != actor.id
            or self.clock() - found.created_at > limits.PROPOSAL_SECONDS
        ):
            raise Refused("newtask.proposal_gone")
        street = self.directory.by_id.get(found.street_id)
        if street is None:
            raise Refused("newtask.proposal_gone")
        self._require_district(actor, street.district_id)
        incident = await self.incident()
        chats, announce = await self._announcements(street.district_id, here)
        task = await self.store.post_proposal(proposal_id, incident.id, self.clock(), announce)
        if task is None:
            raise Refused("newtask.proposal_gone")
        return Posted(task, chats)

    async def complete(
        self,
        person: Person,
        task_id: int,
        note: str | None = None,
        proof_file_id: str | None = None,
    ) -> Changed:
        self.require(person, Role.CADRE)
        incident = await self.incident()
        task = await self.store.get_task(incident.id, task_id)
        if task is None:
            raise Refused("task.unknown", id=task_id)
        if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):  # nobody holds places now
            raise Refused(f"task.is_{task.status.value}", id=task_id, needed=task.needed)
        # whoever holds places on the task may report it (and so frees every place on it);
        # a dispatcher may also close one they did not join, in their own district
        if not await self.store.has_accepted(task_id, person.id):
            if person.role < Role.DISPATCHER:
                raise Refused("done.not_yours", id=task_id)
            self._require_district(person, task.district_id)
        if note is not None and len(note) > limits.MAX_NOTE:
            raise Refused("refuse.too_long", limit=limits.MAX_NOTE)
        done_km = await self._reported_from(person, task, incident)
        notices = []
        if (
            done_km is not None
            and done_km * 1000 > self.config.geo.done_radius_m
            and task.created_by != person.id
        ):
            notices.append(await self._far_done_notice(person, task, done_km))
        notices.extend(await self._done_notices(task, self.clock()))
        name = person.user.name or str(person.id)
        dispatcher_language = await self.chat_language(task.created_by)
        marking = Marking(task, person.id, name, note or None, proof_file_id, dispatcher_language)

        def told(holders: Sequence[Holder]) -> list[Outgoing]:
            return done_notices(marking, holders, self.language_of_code)

        change = await self.store.complete_task(
            incident.id,
            task_id,
            person.id,
            self.clock(),
            note or None,
            proof_file_id,
            done_km,
            notices,
            told,
        )
        if change.outcome != CloseOutcome.DONE or change.task is None:
            raise task_refusal(change.outcome, task_id, change.task)
        return Changed(change.task, change.outcome)

    async def _done_notices(self, task: Task, now: float) -> list[Outgoing]:
        """What else a task's completion owes people (queued only if this call marks it
        done): residents who reported its street hear it (`ResidentService`)."""
        return []

    async def _cancel_notices(self, task: Task, now: float) -> list[Outgoing]:
        """What a task's cancelling owes people (queued only if this call cancels it):
        residents whose report it was made for hear it (`ResidentService`)."""
        return []

    async def _reported_from(self, person: Person, task: Task, incident: Incident) -> float | None:
        """How far from the task's street this person is, if their position is recent."""
        shift = await self.store.open_shift(incident.id, person.id)
        if shift is None or self.clock() - shift.located_at > limits.RECENT_POSITION_SECONDS:
            return None
        return self.directory.distance_km(task.street_id, shift.lat, shift.lon)

    async def _far_done_notice(self, person: Person, task: Task, km: float) -> Outgoing:
        """The dispatcher's warning: a task reported done far from its street."""
        lang = await self.chat_language(task.created_by)
        t = catalog(lang)
        text = t(
            "done.far",
            id=task.id,
            street=task.street,
            name=person.user.name or str(person.id),
            distance=render_distance(t, km),
        )
        return Outgoing(f"done-far:{task.id}", task.created_by, lang, text=text)

    async def _dispatched_task(self, person: Person, task_id: int) -> tuple[Incident, Task]:
        """A task of the current incident that this dispatcher+ may act on (their district)."""
        self.require(person, Role.DISPATCHER)
        incident = await self.incident()
        task = await self.store.get_task(incident.id, task_id)
        if task is None:
            raise Refused("task.unknown", id=task_id)
        self._require_district(person, task.district_id)
        return incident, task

    async def cancel(self, person: Person, task_id: int) -> Changed:
        incident, task = await self._dispatched_task(person, task_id)
        notices = await self._cancel_notices(task, self.clock())
        change = await self.store.cancel_task(
            incident.id, task_id, self.clock(), notices, by=person.id
        )
        if change.outcome != CloseOutcome.CANCELLED or change.task is None:
            raise task_refusal(change.outcome, task_id, change.task)
        return Changed(change.task, change.outcome)

    async def reopen(self, person: Person, task_id: int) -> Reopened:
        """/reopen: a task marked done by mistake, within `limits.REOPEN_SECONDS`, is open
        again and announced again in its district (docs/commands.md "Everyone affected hears
        it")."""
        incident, task = await self._dispatched_task(person, task_id)
        now = self.clock()
        stamp = round(now * 1000)
        announce = [
            Outgoing(
                f"reopen:{task.id}:mistake:{stamp}",
                chat,
                await self.chat_language(chat),
                task_id=task.id,
                template="places.reannounce",
            )
            for chat in await self.chats_for_district(task.district_id)
        ]
        outcome, after, unserved = await self.store.reopen_task(
            incident.id, task_id, now - limits.REOPEN_SECONDS, now, announce
        )
        if outcome == "unknown" or after is None:
            raise Refused("task.unknown", id=task_id)
        if outcome != "reopened":
            raise Refused(f"reopen.{outcome}", id=task_id)
        return Reopened(after, unserved)

    # -- escalation (the sweeps) -----------------------------------------------------

    async def unaccepted_tasks(self, created_before: float) -> list[Task]:
        """Open tasks of the current incident nobody has accepted, posted by then."""
        incident = await self.incident()
        return await self.store.unaccepted_tasks(incident.id, created_before)

    async def escalate(self, task_id: int, messages: Sequence[Outgoing]) -> int:
        """Queue an escalation, only while the task is still open with nobody on it."""
        return await self.store.escalate_task(task_id, messages, self.clock())
