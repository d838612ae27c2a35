"""The snow-clearing service: every action of SPEC §4 as one call, refusals as `Refused`.

The Telegram adapter and the CLI both go through `Snowbot`; nothing here knows
about Telegram. Each state change is one storage transaction, and a result is
returned only after it committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from snowbot import limits
from snowbot.config import Config
from snowbot.directory import Directory
from snowbot.export import export_csvs
from snowbot.gazetteer import CITY_WIDE, read_gazetteer
from snowbot.geo import geodesic_km, valid_position
from snowbot.geocoding import Geocoder, geocoder_for
from snowbot.numerals import chinese_number, count_text
from snowbot.refusals import Refused
from snowbot.render import distance as render_distance
from snowbot.roles import Role, effective_role
from snowbot.tally import Tally, compute_tally
from snowbot.texts import catalog
from storage import open_store
from storage.interface import Store
from storage.records import (
    AcceptOutcome,
    CheckInKind,
    CloseOutcome,
    ImportCounts,
    Incident,
    Outgoing,
    Shift,
    Street,
    Task,
    TaskStatus,
    User,
)

Clock = Callable[[], float]


@dataclass(frozen=True)
class Person:
    """A user with the role they hold right now."""

    user: User
    role: Role

    @property
    def id(self) -> int:
        return self.user.id


@dataclass(frozen=True)
class NearbyTask:
    task: Task
    km: float | None


@dataclass(frozen=True)
class CheckInResult:
    kind: CheckInKind
    shift: Shift
    street: Street
    km: float
    nearby: list[NearbyTask]


@dataclass(frozen=True)
class CheckOutResult:
    shift: Shift
    seconds: float


@dataclass(frozen=True)
class Posted:
    task: Task
    chats: list[int]  # groups bound to its district, where it is announced


@dataclass(frozen=True)
class Proposed:
    """A /newtask name the geocoder placed near a street: posted once its dispatcher confirms."""

    id: int
    query: str
    street: Street
    km: float
    needed: int


@dataclass(frozen=True)
class Changed:
    """An accept, done or cancel that took effect, and the task after it."""

    task: Task
    outcome: AcceptOutcome | CloseOutcome


class Snowbot:
    def __init__(
        self,
        store: Store,
        config: Config,
        directory: Directory,
        clock: Clock = time.time,
        geocoder: Geocoder | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.directory = directory
        self.clock = clock
        self.geocoder = geocoder
        # The current incident changes only by start_incident, in this process (the CLI
        # only reads); keeping it saves a query on every update.
        self._incident: Incident | None = None

    @classmethod
    async def open(
        cls, config: Config, clock: Clock = time.time, geocoder: Geocoder | None = None
    ) -> Snowbot:
        """Open the database and load the city into memory.

        `geocoder`: for tests; by default the one the config names, if any.
        """
        store = await open_store(config.database)
        try:
            bot = cls(
                store,
                config,
                Directory([], []),
                clock,
                geocoder or geocoder_for(config.geo, config.telegram.proxy),
            )
            await bot.reload_streets()
        except BaseException:
            # an open store keeps a thread alive: the process would never exit
            await store.close()
            raise
        return bot

    async def close(self) -> None:
        if self.geocoder is not None:
            await self.geocoder.close()
        await self.store.close()

    # -- the city ----------------------------------------------------------------

    async def reload_streets(self) -> None:
        streets, districts = await self.store.streets(), await self.store.districts()
        self.directory = Directory(streets, districts, await self.store.street_lines())

    async def import_streets(
        self, path: Path, district_property: str | None = None, district: str | None = None
    ) -> ImportCounts:
        """Import a gazetteer file (CSV or GeoJSON): refused whole on any bad row, idempotent."""
        rows = read_gazetteer(
            path, district_property or self.config.city.district_property, district
        )
        counts = await self.store.import_streets(rows)
        await self.reload_streets()
        return counts

    # -- incidents ---------------------------------------------------------------

    def default_incident_name(self) -> str:
        day = datetime.fromtimestamp(self.clock(), self.config.city.timezone)
        return f"{self.config.city.display_name(self.config.language)} {day:%Y-%m-%d}"

    async def incident(self) -> Incident:
        if self._incident is None:
            self._incident = await self.store.current_incident(
                self.default_incident_name(), self.clock()
            )
        return self._incident

    async def start_incident(self, actor: Person, name: str, origin: int | None = None) -> Incident:
        self.require(actor, Role.COORDINATOR)
        name = " ".join(name.split())
        if not name:
            raise Refused("incident.usage")
        if len(name) > limits.MAX_INCIDENT_NAME:
            raise Refused("refuse.too_long", limit=limits.MAX_INCIDENT_NAME)
        _, new = await self.store.start_incident(name, self.clock(), origin)
        self._incident = new
        return new

    # -- people ------------------------------------------------------------------

    async def meet(
        self, user_id: int, name: str, username: str | None, language_code: str | None
    ) -> Person:
        """The person behind an update, registered on first contact (a write only then)."""
        user = await self.store.get_user(user_id)
        if user is None or not user.registered or user.name != name or user.username != username:
            user = await self.store.register_user(
                user_id, name, username, language_code, self.clock()
            )
        return self._person(user)

    async def person(self, user_id: int) -> Person | None:
        user = await self.store.get_user(user_id)
        return self._person(user) if user else None

    def _person(self, user: User) -> Person:
        return Person(user, effective_role(user.role, user.id, self.config.coordinators))

    def language_of(self, person: Person | None) -> str:
        """/lang choice, else Telegram's language, else the config default."""
        code = (person.user.language or "") if person else ""
        if code.startswith("zh"):
            return "zh"
        if code.startswith("en"):
            return "en"
        return self.config.language

    async def chat_language(self, chat_id: int) -> str:
        """A private chat speaks its user's language; groups the city's default."""
        if chat_id > 0:
            return self.language_of(await self.person(chat_id))
        return self.config.language

    async def set_language(self, person: Person, language: str) -> None:
        if language not in ("zh", "en"):
            raise Refused("lang.usage")
        await self.store.set_language(person.id, language)

    async def grant(
        self, actor: Person, target_id: int, role: Role, district_name: str | None
    ) -> tuple[User, str | None]:
        self.require(actor, Role.COORDINATOR)
        if target_id <= 0:
            raise Refused("grant.usage")
        if target_id in self.config.coordinators and role != Role.COORDINATOR:
            raise Refused("grant.config_coordinator", user=target_id)
        district_id = None
        if district_name:
            if role != Role.DISPATCHER:
                raise Refused("grant.district_for_dispatcher")
            district = self.directory.district(district_name)
            if district is None:
                raise Refused(
                    "refuse.unknown_district", district=district_name, known=self._district_list()
                )
            district_id = district.id
            district_name = district.name
        user = await self.store.set_role(target_id, role.key, district_id, self.clock())
        return user, district_name

    async def revoke(self, actor: Person, target_id: int) -> User:
        self.require(actor, Role.COORDINATOR)
        if target_id in self.config.coordinators:
            raise Refused("grant.config_coordinator", user=target_id)
        return await self.store.set_role(target_id, Role.CADRE.key, None, self.clock())

    # -- shifts ------------------------------------------------------------------

    async def ask_check_in(self, person: Person, headcount: int) -> None:
        """Remember "/checkin N" until the location comes."""
        _check_count(headcount, limits.MAX_TEAM, "checkin.bad_count")
        await self.store.set_pending_checkin(person.id, headcount, self.clock())

    async def check_in(self, person: Person, lat: float, lon: float) -> CheckInResult:
        """A shared location: open, update or reopen the shift (SPEC §2)."""
        if not valid_position(lat, lon):
            raise Refused("checkin.bad_location")
        max_km = self.config.geo.max_distance_km
        nearest = self.directory.nearest(lat, lon, max_km)
        if nearest is None:
            raise Refused("checkin.no_streets")
        if nearest.km > max_km:
            raise Refused(
                "checkin.too_far",
                km=round(nearest.km, 1),
                street=nearest.street.name,
                max_km=_num(max_km),
            )
        now = self.clock()
        incident = await self.incident()
        rejoin_after = now - self.config.schedule.rejoin_window.total_seconds()
        done = await self.store.check_in(
            incident.id,
            person.id,
            1,  # unless a "/checkin N" is waiting for this location
            nearest.street,
            lat,
            lon,
            now,
            rejoin_after,
            pending_since=now - limits.PENDING_CHECKIN_SECONDS,
        )
        nearby = [
            n
            for n in await self.nearby_tasks(lat, lon, only_wanting=True, incident=incident)
            if n.km is not None and n.km <= max_km  # "nearby": not in another town
        ]
        return CheckInResult(
            done.kind, done.shift, nearest.street, nearest.km, nearby[: limits.NEARBY_TASKS]
        )

    async def move(self, person: Person, lat: float, lon: float) -> bool:
        """A live location's update: move the open shift, if any; never opens one."""
        if not valid_position(lat, lon):
            return False
        nearest = self.directory.nearest(lat, lon, self.config.geo.max_distance_km)
        if nearest is None or nearest.km > self.config.geo.max_distance_km:
            return False
        incident = await self.incident()
        return await self.store.move_shift(
            incident.id, person.id, nearest.street.id, lat, lon, self.clock()
        )

    async def check_out(self, person: Person) -> CheckOutResult:
        incident = await self.incident()
        shift = await self.store.check_out(incident.id, person.id, self.clock())
        if shift is None:
            raise Refused("checkout.not_on_duty")
        assert shift.ended_at is not None
        return CheckOutResult(shift, shift.ended_at - shift.started_at)

    async def on_duty(self, person: Person) -> Shift | None:
        incident = await self.incident()
        return await self.store.open_shift(incident.id, person.id)

    # -- tasks -------------------------------------------------------------------

    async def post_task(
        self, actor: Person, words: list[str], here: int | None = None, origin: int | None = None
    ) -> Posted | Proposed:
        """`/newtask STREET [N] [NOTE…]` by a dispatcher or coordinator.

        The announcements to the district's groups (but not `here`, the chat it was
        posted in) are queued in the same transaction as the task. A name that is no
        street may be geocoded: then the task waits as a proposal for confirmation.
        """
        self.require(actor, Role.DISPATCHER)
        if not words:
            raise Refused("newtask.usage")
        own = actor.user.district_id if actor.role == Role.DISPATCHER else None
        match = self.directory.match_leading(words, own)
        if not match.streets:
            proposed = await self._propose(actor, words)
            if proposed is not None:
                return proposed
            raise Refused(
                "newtask.unknown_street",
                text=" ".join(words[:3]),
                suggestions=self._suggestions(words),
            )
        if len(match.streets) > 1:
            raise Refused(
                "newtask.ambiguous",
                text=match.streets[0].name,
                suggestions=match.streets,
            )
        street = match.streets[0]
        self._require_district(actor, street.district_id)
        needed, note = _needed_and_note(match.rest)
        incident = await self.incident()
        chats, announce = await self._announcements(street.district_id, here)
        task = await self.store.create_task(
            incident.id, street.id, needed, note, actor.id, self.clock(), announce, origin
        )
        return Posted(task, chats)

    async def _announcements(
        self, district_id: int, here: int | None
    ) -> tuple[list[int], list[Outgoing]]:
        """The district's groups (but not `here`) and a new task's announcement to each."""
        chats = [c for c in await self.chats_for_district(district_id) if c != here]
        return chats, [
            Outgoing("announce", chat, await self.chat_language(chat), template="newtask.announce")
            for chat in chats
        ]

    async def _propose(self, actor: Person, words: list[str]) -> Proposed | None:
        """Geocode a name that is no street and snap it to the nearest street, if configured.

        None (so: suggestions from the gazetteer) when there is no geocoder, or it is
        slow, fails, finds nothing, or finds a place far from every street.
        """
        if self.geocoder is None:
            return None
        place = list(itertools.takewhile(lambda w: not _looks_numeric(w), words))
        needed, note = _needed_and_note(words[len(place) :])
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
            actor.id, nearest.street.id, needed, note, query, self.clock()
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
            or found[0] != actor.id
            or self.clock() - found[4] > limits.PROPOSAL_SECONDS
        ):
            raise Refused("newtask.proposal_gone")
        street = self.directory.by_id.get(found[1])
        if street is None:
            raise Refused("newtask.proposal_gone")
        self._require_district(actor, street.district_id)
        incident = await self.incident()
        chats, announce = await self._announcements(street.district_id, here)
        task = await self.store.post_proposal(proposal_id, incident.id, self.clock(), announce)
        if task is None:
            raise Refused("newtask.proposal_gone")
        return Posted(task, chats)

    async def accept(self, person: Person, task_id: int) -> Changed:
        incident = await self.incident()
        if await self.store.open_shift(incident.id, person.id) is None:
            raise Refused("accept.not_on_duty", id=task_id)
        change = await self.store.accept_task(incident.id, task_id, person.id, self.clock())
        if change.outcome != AcceptOutcome.ACCEPTED or change.task is None:
            raise _task_refusal(change.outcome, task_id, change.task)
        return Changed(change.task, change.outcome)

    async def complete(
        self,
        person: Person,
        task_id: int,
        note: str | None = None,
        proof_file_id: str | None = None,
    ) -> Changed:
        incident = await self.incident()
        task = await self.store.get_task(incident.id, task_id)
        if task is None:
            raise Refused("task.unknown", id=task_id)
        # whoever joined the task may report it; a dispatcher may also close one they did
        # not join, in their own district
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
        change = await self.store.complete_task(
            incident.id,
            task_id,
            person.id,
            self.clock(),
            note or None,
            proof_file_id,
            done_km,
            notices,
        )
        if change.outcome != CloseOutcome.DONE or change.task is None:
            raise _task_refusal(change.outcome, task_id, change.task)
        return Changed(change.task, change.outcome)

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

    async def cancel(self, person: Person, task_id: int) -> Changed:
        self.require(person, Role.DISPATCHER)
        incident = await self.incident()
        task = await self.store.get_task(incident.id, task_id)
        if task is None:
            raise Refused("task.unknown", id=task_id)
        self._require_district(person, task.district_id)
        change = await self.store.cancel_task(incident.id, task_id, self.clock())
        if change.outcome != CloseOutcome.CANCELLED or change.task is None:
            raise _task_refusal(change.outcome, task_id, change.task)
        return Changed(change.task, change.outcome)

    async def nearby_tasks(
        self,
        lat: float | None,
        lon: float | None,
        only_wanting: bool = False,
        incident: Incident | None = None,
        exact: int = limits.TASKS_LISTED,
    ) -> list[NearbyTask]:
        """Live tasks, nearest first when a position is known, else oldest first.

        `incident`: the current incident when the caller has already read it. The
        first `exact` are measured geodesically; the rest only ranked.
        """
        incident = incident or await self.incident()
        tasks = await self.store.live_tasks(incident.id)
        if only_wanting:
            tasks = [t for t in tasks if t.accepted < t.needed]
        if lat is None or lon is None:
            # no position: the tasks still wanting people first (nobody yet, then some),
            # each oldest first
            tasks.sort(key=lambda t: (t.accepted >= t.needed, t.accepted > 0, t.created_at, t.id))
            return [NearbyTask(t, None) for t in tasks]
        # rank every task cheaply, then measure the ones anyone will see exactly
        listed = [NearbyTask(t, self._task_km(t, lat, lon, exact=False)) for t in tasks]
        listed.sort(key=lambda n: (n.km, n.task.id))
        shown = [NearbyTask(n.task, self._task_km(n.task, lat, lon)) for n in listed[:exact]]
        shown.sort(key=lambda n: (n.km, n.task.id))
        return shown + listed[exact:]

    def _task_km(self, task: Task, lat: float, lon: float, exact: bool = True) -> float:
        """To the task's street, along its lines when it has them."""
        km = self.directory.distance_km(task.street_id, lat, lon, exact)
        return km if km is not None else geodesic_km(lat, lon, task.lat, task.lon)

    async def tasks_for(self, person: Person) -> list[NearbyTask]:
        shift = await self.on_duty(person)
        if shift is None:
            return await self.nearby_tasks(None, None)
        return await self.nearby_tasks(shift.lat, shift.lon)

    # -- reports -----------------------------------------------------------------

    async def tally(self, actor: Person | None = None) -> Tally:
        if actor is not None:
            self.require(actor, Role.DISPATCHER)
        return await compute_tally(self.store, await self.incident(), self.clock(), self.directory)

    def district_in_view(self, actor: Person, text: str) -> str | None:
        """What a /tally or /unserved is about: the district named, the whole city for
        "all" (全市), and with nothing named a bound dispatcher's own district."""
        if text.strip().lower() in CITY_WIDE:
            return None
        if text.strip():
            return self.district_named(text)
        own = actor.user.district_id
        if actor.role == Role.DISPATCHER and own is not None:
            return self.directory.district_names.get(own)
        return None

    def district_named(self, text: str) -> str:
        district = self.directory.district(text)
        if district is None:
            raise Refused("refuse.unknown_district", district=text, known=self._district_list())
        return district.name

    async def export(self, actor: Person | None = None) -> dict[str, bytes]:
        """shifts.csv and tasks.csv of the current incident (coordinators only in chat)."""
        if actor is not None:
            self.require(actor, Role.COORDINATOR)
        incident = await self.incident()
        return export_csvs(
            await self.store.shift_rows(incident.id),
            await self.store.task_rows(incident.id),
            self.config.city.timezone,
        )

    # -- groups ------------------------------------------------------------------

    async def bind(self, actor: Person, chat_id: int, target: str, title: str = "") -> str | None:
        """Bind a group to a district's announcements, or with "all" to the city reports."""
        self.require(actor, Role.DISPATCHER)
        title = title[: limits.MAX_TITLE]
        if target.strip().lower() in CITY_WIDE:
            if actor.role == Role.DISPATCHER and actor.user.district_id is not None:
                raise Refused("bind.only_own")
            await self.store.bind_chat(chat_id, None, actor.id, self.clock(), title)
            return None
        district = self.directory.district(target)
        if district is None:
            raise Refused("refuse.unknown_district", district=target, known=self._district_list())
        self._require_district(actor, district.id)
        await self.store.bind_chat(chat_id, district.id, actor.id, self.clock(), title)
        return district.name

    async def chats_for_district(self, district_id: int) -> list[int]:
        return [b.chat_id for b in await self.store.bindings() if b.district_id == district_id]

    async def report_chats(self) -> list[int]:
        """Where city-wide reports go: `report_chats` (at their new ids if they moved)
        and groups bound with /bind all."""
        moved = await self.store.moved_chats()
        chats: list[int] = []
        for configured in self.config.schedule.report_chats:
            chat = moved.get(configured, configured)
            if chat not in chats:
                chats.append(chat)
        for binding in await self.store.bindings():
            if binding.district_id is None and binding.chat_id not in chats:
                chats.append(binding.chat_id)
        return chats

    async def move_chat(self, old_id: int, new_id: int) -> bool:
        """A group was upgraded to a supergroup, which has a new id: its binding, its waiting
        messages and, for a `report_chats` entry, the reports follow it. True when news."""
        return await self.store.move_chat(old_id, new_id, self.clock())

    def is_report_chat(self, chat_id: int) -> bool:
        return chat_id in self.config.schedule.report_chats

    # -- updates -----------------------------------------------------------------

    async def already_handled(self, update_id: int) -> bool:
        """Whether this Telegram update was handled before (a redelivery, to be ignored).

        An update is marked once it has been handled. If the bot dies in between, the
        update comes again and is handled again: every action is safe to repeat
        (checking in while on duty adds nothing, a second accept is "already"), and
        the two that are not, posting a task and starting an incident, find what
        they made the first time by the update's id (`origin`).
        """
        return await self.store.update_seen(update_id)

    async def handled(self, update_id: int) -> None:
        await self.store.mark_update(update_id, self.clock())

    async def reply_later(
        self, update_id: int, chat_id: int, text: str, markup: str | None = None
    ) -> None:
        """A reply Telegram could not take when it was made: the outbox sends it later.

        Keyed by the update and the text, so an update handled again after a crash
        queues the same reply once.
        """
        digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
        # rendered already: the language is not needed again
        later = Outgoing(f"reply:{update_id}:{digest}", chat_id, "", text=text, markup=markup)
        await self.store.enqueue([later], self.clock())

    async def keep_updates(self, updates: list[tuple[int, str]]) -> None:
        """Keep updates as fetched, before Telegram hears they were received."""
        await self.store.keep_updates(updates, self.clock())

    async def unhandled_updates(self) -> list[str]:
        """Updates kept but not handled when the bot last stopped (killed mid-burst)."""
        return await self.store.unhandled_updates()

    async def forget_old_updates(self) -> int:
        return await self.store.forget_updates(self.clock() - limits.SEEN_UPDATES_SECONDS)

    # -- rules -------------------------------------------------------------------

    def require(self, person: Person, role: Role) -> None:
        """Refuse unless the person holds `role` or above right now."""
        if person.role < role:
            raise Refused("refuse.role", role=role)

    def _require_district(self, person: Person, district_id: int) -> None:
        own = person.user.district_id
        if person.role == Role.DISPATCHER and own is not None and own != district_id:
            raise Refused(
                "refuse.other_district", district=self.directory.district_names.get(own, "?")
            )

    def _district_list(self) -> list[str]:
        """The districts' names, for a refusal to list (the adapter joins them)."""
        return sorted(self.directory.districts)

    def _suggestions(self, words: list[str]) -> list[Street]:
        for k in range(min(len(words), 4), 0, -1):
            found = self.directory.suggest(" ".join(words[:k]))
            if found:
                return found
        return []


_NUMERIC = re.compile(r"[-+]?[\d.,eE]*\d[\d.,eE]*")


def _looks_numeric(text: str) -> bool:
    return bool(_NUMERIC.fullmatch(text))


def _needed_and_note(rest: list[str]) -> tuple[int, str]:
    """What follows the street in /newtask: [N] [NOTE…]."""
    needed = 1
    if rest and (_looks_numeric(rest[0]) or chinese_number(rest[0]) is not None):
        needed = _check_count_text(count_text(rest[0]), limits.MAX_NEEDED, "newtask.bad_count")
        rest = rest[1:]
    note = " ".join(rest)
    if len(note) > limits.MAX_NOTE:
        raise Refused("refuse.too_long", limit=limits.MAX_NOTE)
    return needed, note


def _check_count_text(text: str, limit: int, key: str) -> int:
    if not re.fullmatch(r"\+?[0-9]{1,6}", text):  # ASCII only: "١٢٣" is refused, not read
        raise Refused(key, value=text[:20], max=limit)
    return _check_count(int(text), limit, key)


def _check_count(value: int, limit: int, key: str) -> int:
    if not 1 <= value <= limit:
        raise Refused(key, value=str(value)[:20], max=limit)
    return value


def parse_count(text: str, limit: int, key: str) -> int:
    """A whole number 1..limit typed by a user ("3", "三", "十五"), or a Refused naming `key`."""
    return _check_count_text(count_text(text.strip()), limit, key)


def parse_task_id(text: str) -> int:
    """A task id as typed: "12" or "#12"."""
    cleaned = text.strip().lstrip("#")
    if not re.fullmatch(r"\d{1,9}", cleaned):
        raise Refused("task.bad_id", text=text[:20])
    return int(cleaned)


def _task_refusal(
    outcome: AcceptOutcome | CloseOutcome, task_id: int, task: Task | None
) -> Refused:
    """The reply to an accept, done or cancel that did not take effect."""
    params = {"id": task_id, "needed": task.needed if task else 0}
    if task is None or outcome in (AcceptOutcome.UNKNOWN, CloseOutcome.UNKNOWN):
        return Refused("task.unknown", **params)
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return Refused(f"task.is_{task.status.value}", **params)
    # the two enums share values ("already"), so tell them apart by type
    if isinstance(outcome, AcceptOutcome) and outcome == AcceptOutcome.ALREADY:
        return Refused("accept.already", **params)
    return Refused("accept.full", **params)


def _num(value: float) -> str:
    return f"{value:g}"
