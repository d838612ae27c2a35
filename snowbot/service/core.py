"""What every part of the service shares: the store, the config, the city, the clock,
the current incident, the people and their languages, and the rules about roles.

Several processes may share one database (docs/operators.md "Several processes, one database"), so
nothing here keeps shared state beyond one update: the current incident is read in each update's
own transaction, and the city's streets, kept in memory for the nearest-street lookups, are rebuilt
whenever the database's `city_version` moves (an import by any process), checked every few seconds,
when the overview's change signal is raised too if another process changed anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from snowbot.domain.directory import Directory
from snowbot.domain.gazetteer import read_gazetteer
from snowbot.domain.geo import Nearest, valid_position
from snowbot.domain.handling import UpdateScope, current_update
from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Ending, ImportCounts, Incident, Shift, Street, User
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role, effective_role
from snowbot.domain.stores import Store
from snowbot.service.changes import Changes, watched
from snowbot.service.geocoding import Geocoder
from snowbot.service.health import Health
from snowbot.service.results import Person, looks_numeric
from snowbot.settings.config import Config
from snowbot.text.ending import ending_notices

Clock = Callable[[], float]

log = logging.getLogger("snowbot.city")

# how often a running bot asks whether another process changed the database: streets
# imported (docs/operators.md "Several processes, one database": used within a minute; a rebuild of
# a big city takes seconds on top), or anything the overview shows
FOLLOW_SECONDS = 2.0


class ServiceCore:
    """The state the feature parts of `Snowbot` share; it never talks to Telegram."""

    def __init__(
        self,
        store: Store,
        config: Config,
        directory: Directory,
        clock: Clock = time.time,
        geocoder: Geocoder | None = None,
    ) -> None:
        # The store is the service's own: the adapter, the courier and the sweeps call the
        # service's named operations instead (tests may read it to check what was kept).
        # Watched: each change raises `changes` once committed (the overview's live updates).
        self.changes = Changes()
        self.health = Health()
        self.store = watched(store, self.changes)
        self.config = config
        self.directory = directory
        self.clock = clock
        self.geocoder = geocoder
        # The current incident, kept for the rest of the update that read it: any process
        # may start or close one, so the next update reads it again (in its transaction).
        self._incident: tuple[UpdateScope, Incident] | None = None
        # the database's city_version the directory was built from, the database's
        # data version last seen, and the task that follows both
        self._city_version = 0
        self._data_version: int | None = None
        self._following: asyncio.Task[None] | None = None

    async def close(self) -> None:
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
            self._following = None
        if self.geocoder is not None:
            await self.geocoder.close()
        await self.store.close()

    # -- the city ----------------------------------------------------------------

    async def reload_streets(self) -> None:
        """Build the directory from the database's streets (the version first: a change
        meanwhile makes the next check build it again)."""
        version = await self.store.city_version()
        streets, districts = await self.store.streets(), await self.store.districts()
        lines = await self.store.street_lines()
        # seconds of work for a 100,000-street city: in a thread, the bot answering meanwhile
        self.directory = await asyncio.to_thread(Directory, streets, districts, lines)
        self._city_version = version

    async def follow_city(self) -> bool:
        """Rebuild the directory if any process changed the city's streets since it was
        built; True if it did."""
        if await self.store.city_version() == self._city_version:
            return False
        await self.reload_streets()
        log.info("the city's streets changed: %d streets now", len(self.directory.streets))
        return True

    async def follow_changes(self) -> bool:
        """Raise `changes` if the database changed since the last look, by whichever
        process (this one's own changes raise it at once): the overview of one process
        shows what the others did. True if it moved."""
        version = await self.store.data_version()
        moved = self._data_version is not None and version != self._data_version
        self._data_version = version
        if moved:
            self.changes.changed()
        return moved

    def start_following(self, every: float = FOLLOW_SECONDS) -> None:
        """Every `every` seconds until `close`: rebuild the streets if another process
        imported some, and raise `changes` if another process changed anything."""
        if self._following is not None:
            return

        async def follow() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.follow_city()
                    await self.follow_changes()
                except Exception as exc:  # a database away for a moment: the next check
                    log.warning("could not look for changes in the database: %r", exc)

        # in a context of its own: never inside the update that happened to start it
        self._following = asyncio.create_task(follow(), context=contextvars.Context())

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

    # -- the current incident ----------------------------------------------------

    def default_incident_name(self) -> str:
        day = datetime.fromtimestamp(self.clock(), self.config.city.timezone)
        return f"{self.config.city.display_name(self.config.language)} {day:%Y-%m-%d}"

    async def incident(self) -> Incident:
        """The current incident, as the database has it now (once per update)."""
        scope = current_update()
        kept = self._incident
        if scope is not None and kept is not None and kept[0] is scope:
            return kept[1]
        found = await self.store.current_incident(self.default_incident_name(), self.clock())
        self._keep_incident(found)
        return found

    def _keep_incident(self, incident: Incident) -> None:
        """Keep the incident for the rest of this update (outside an update, not at all)."""
        scope = current_update()
        self._incident = (scope, incident) if scope is not None else None

    # -- people ------------------------------------------------------------------

    async def meet(
        self, user_id: int, name: str, username: str | None, language_code: str | None
    ) -> Person:
        """The person behind an update, registered on first contact (a write only then).

        With open enrolment whoever writes becomes a cadre; with invitations, a guest.
        """
        member = self.config.access.open
        user = await self.store.get_user(user_id)
        if (
            user is None
            or not user.registered
            or user.name != name
            or user.username != username
            or (member and user.role == Role.GUEST)
        ):
            user = await self.store.register_user(
                user_id, name, username, language_code, self.clock(), member
            )
        return self._person(user)

    async def person(self, user_id: int) -> Person | None:
        user = await self.store.get_user(user_id)
        return self._person(user) if user else None

    def _person(self, user: User) -> Person:
        return Person(user, effective_role(user.role, user.id, self.config.coordinators))

    def language_of(self, person: Person | None) -> str:
        """/lang choice, else Telegram's language, else the config default."""
        return self.language_of_code(person.user.language if person else None)

    def language_of_code(self, code: str | None) -> str:
        """A language code (/lang's, or Telegram's) as zh or en, else the config default."""
        code = code or ""
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

    def ending_notices(self, ending: Ending) -> list[Outgoing]:
        """What an incident's end tells, from what its transaction read (docs/commands.md "Everyone
        affected hears it")."""

        def street(street_id: int) -> str:
            found = self.directory.by_id.get(street_id)
            return found.name if found else "?"

        tz = self.config.city.timezone
        return ending_notices(ending, self.clock(), tz, self.language_of_code, street)

    async def on_duty(self, person: Person) -> Shift | None:
        """The person's open shift, if they are on duty."""
        incident = await self.incident()
        return await self.store.open_shift(incident.id, person.id)

    async def set_language(self, person: Person, language: str) -> None:
        if language not in ("zh", "en"):
            raise Refused("lang.usage")
        await self.store.set_language(person.id, language)

    # -- groups --------------------------------------------------------------------

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

    # -- rules -------------------------------------------------------------------

    def require(self, person: Person, role: Role) -> None:
        """Refuse unless the person holds `role` or above right now.

        Roles are checked here, in the service, and only here: the adapter asks. A guest
        asked to be a cadre is told how to join.
        """
        if person.role == Role.GUEST and role == Role.CADRE:
            raise Refused("refuse.guest")
        if person.role < role:
            raise Refused("refuse.role", role=role)

    def _require_district(self, person: Person, district_id: int) -> None:
        own = person.user.district_id
        if person.role == Role.DISPATCHER and own is not None and own != district_id:
            raise Refused(
                "refuse.other_district", district=self.directory.district_names.get(own, "?")
            )

    def district_name(self, district_id: int | None) -> str | None:
        if district_id is None:
            return None
        return self.directory.district_names.get(district_id, "?")

    def _district_list(self) -> list[str]:
        """The districts' names, for a refusal to list (the adapter joins them)."""
        return sorted(self.directory.districts)

    def unknown_district(self, name: str, **offer: int) -> Refused:
        """The refusal of a district name no district has: those like it by writing or
        sound, else every district; never an empty list (docs/commands.md "Chinese as people type
        it"). With `offer` (what the command read besides the name), the districts like it go with
        their ids as
        `offer`, for a private chat's buttons to finish the command."""
        like = self.directory.suggest_districts(name)
        if like:
            refused = Refused("typed.district_like", district=name, suggestions=like)
            if offer:
                ids = [self.directory.districts[n].id for n in like]
                refused.params["offer"] = (ids, offer)
            return refused
        known = self._district_list()
        if known:
            return Refused("refuse.unknown_district", district=name, known=known)
        return Refused("typed.no_districts", district=name)

    def street_near(
        self, lat: float, lon: float, too_far: str, outside: str = "typed.outside"
    ) -> Nearest:
        """The street nearest a shared location, or a refusal: a position that is no place,
        outside `[city] boundary` (refused as `outside`), no streets at all, or farther than
        `[geo] max_distance_km` (refused as `too_far`)."""
        if not valid_position(lat, lon):
            raise Refused("checkin.bad_location")
        if not self.in_city(lat, lon):
            raise Refused(outside, city=self.config.city)
        max_km = self.config.geo.max_distance_km
        nearest = self.directory.nearest(lat, lon, max_km)
        if nearest is None:
            raise Refused("checkin.no_streets")
        if nearest.km > max_km:
            raise Refused(
                too_far, km=round(nearest.km, 1), street=nearest.street.name, max_km=f"{max_km:g}"
            )
        return nearest

    def in_city(self, lat: float, lon: float) -> bool:
        """Inside `[city] boundary` (docs/commands.md "Chinese as people type it"); anywhere when
        there is none."""
        boundary = self.config.city.boundary
        return boundary is None or boundary.contains(lat, lon)

    def name_read(self, words: list[str]) -> tuple[str, list[Street]]:
        """The street name an unknown /newtask read, and the streets it may mean.

        The name is the words before the count; without a count, the most leading words
        (up to four) that anything looks like, else the first word: never the note.
        """
        before = list(itertools.takewhile(lambda w: not looks_numeric(w), words))
        place = before[:4]
        counted = bool(place) and len(before) < len(words) and len(before) <= 4
        for k in range(len(place), 0, -1):
            found = self.directory.suggest(" ".join(place[:k]))
            if found:
                return " ".join(place if counted else place[:k]), found
        return " ".join(place if counted else words[:1]), []
