"""Coordinators' and dispatchers' controls: incidents, roles, groups, the tally and the export."""

from __future__ import annotations

from snowbot.domain import limits
from snowbot.domain.counts import DistrictDetail
from snowbot.domain.gazetteer import CITY_WIDE
from snowbot.domain.model import Incident, User
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.domain.tally import Tally, compute_tally
from snowbot.service.core import ServiceCore
from snowbot.service.results import Granted, Person, Revoked, parse_user_id
from snowbot.text.export import EXPORT_FILES, export_csvs
from snowbot.text.export_xlsx import xlsx_name


class AdminService(ServiceCore):
    async def incident_for(self, actor: Person) -> Incident:
        """/incident: the current incident, shown to coordinators."""
        self.require(actor, Role.COORDINATOR)
        return await self.incident()

    async def start_incident(self, actor: Person, name: str, origin: int | None = None) -> Incident:
        self.require(actor, Role.COORDINATOR)
        name = " ".join(name.split())
        if not name:
            raise Refused("incident.usage")
        if len(name) > limits.MAX_INCIDENT_NAME:
            raise Refused("refuse.too_long", limit=limits.MAX_INCIDENT_NAME)
        # the ended incident owes its closing report (`StormService.queue_closing_reports`)
        _, new = await self.store.start_incident(
            name, self.clock(), origin, closed_by=actor.id, tell=self.ending_notices
        )
        self._keep_incident(new)
        return new

    async def grant_words(self, actor: Person, words: list[str]) -> Granted:
        """`/grant USER_ID ROLE [DISTRICT]` as typed."""
        self.require(actor, Role.COORDINATOR)
        if len(words) < 2:
            raise Refused("grant.usage")
        target = parse_user_id(words[0], "grant.usage")
        role = Role.parse(words[1])
        if role is None:
            raise Refused("grant.bad_role", role=words[1][:30])
        _, district = await self.grant(actor, target, role, " ".join(words[2:]) or None)
        return Granted(target, role, district)

    async def grant(
        self, actor: Person, target_id: int, role: Role, district_name: str | None
    ) -> tuple[User, str | None]:
        self.require(actor, Role.COORDINATOR)
        if target_id <= 0:
            raise Refused("grant.usage")
        # a config coordinator given a role in the database would keep it after being
        # taken out of the config: the config file alone decides who they are
        if target_id in self.config.coordinators:
            raise Refused("grant.config_coordinator", user=target_id)
        if role == Role.COORDINATOR:  # the config names them, and nothing else (docs/security.md)
            raise Refused("coordinators.not_granted")
        district_id = None
        if district_name:
            if role != Role.DISPATCHER:
                raise Refused("grant.district_for_dispatcher")
            district = self.directory.district(district_name)
            if district is None:
                raise self.unknown_district(district_name)
            district_id = district.id
            district_name = district.name
        user = await self.store.set_role(target_id, role, district_id, self.clock())
        return user, district_name

    async def revoke_words(self, actor: Person, words: list[str]) -> Revoked:
        """`/revoke USER_ID` as typed: whose role was taken back, what they are now, and
        the groups they had bound (which stay bound until someone sends /unbind there)."""
        self.require(actor, Role.COORDINATOR)
        if len(words) != 1:
            raise Refused("grant.revoke_usage")
        target = parse_user_id(words[0], "grant.revoke_usage")
        user, ended = await self.revoke(actor, target)
        role = self._person(user).role
        return Revoked(target, role, await self.store.bound_by(target), ended)

    async def revoke(self, actor: Person, target_id: int) -> tuple[User, int]:
        """Back to what /start alone makes: a guest (with open enrolment, a cadre); the
        person's live invitations end with the role (returned: how many)."""
        self.require(actor, Role.COORDINATOR)
        if target_id in self.config.coordinators:
            raise Refused("grant.config_coordinator", user=target_id)
        return await self.store.revoke_role(target_id, self.clock())

    # -- the numbers -----------------------------------------------------------------

    async def tally(self, actor: Person | None = None) -> Tally:
        """The live tally; in chat, for dispatchers and coordinators only."""
        if actor is not None:
            self.require(actor, Role.DISPATCHER)
        return await compute_tally(self.store, await self.incident(), self.clock(), self.directory)

    async def district_detail(self, actor: Person, district: str) -> DistrictDetail | None:
        """The rest of a district in full (docs/commands.md "Everyone affected hears it"), beside
        the tally's district line."""
        self.require(actor, Role.DISPATCHER)
        found = self.directory.district(district)
        if found is None:
            return None
        return await self.store.district_detail((await self.incident()).id, found.id)

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
            raise self.unknown_district(text)
        return district.name

    async def export(self, actor: Person | None = None) -> dict[str, bytes]:
        """shifts.csv, tasks.csv and reports.csv of the current incident (coordinators only
        in chat)."""
        if actor is not None:
            self.require(actor, Role.COORDINATOR)
        incident = await self.incident()
        return export_csvs(
            await self.store.shift_rows(incident.id),
            await self.store.task_rows(incident.id),
            self.config.city.timezone,
            await self.store.report_rows(incident.id),
        )

    async def export_files(self, actor: Person) -> tuple[Incident, tuple[str, ...]]:
        """What /export sends a coordinator: the current incident and the names of its
        CSVs and workbook, made when each is sent (`incident_file`), so they go through the outbox
        with the update's other replies."""
        self.require(actor, Role.COORDINATOR)
        incident = await self.incident()
        return incident, (*EXPORT_FILES, xlsx_name(incident.id))

    # -- groups ------------------------------------------------------------------------

    async def bind(
        self, actor: Person, chat_id: int, target: str, title: str = "", private: bool = False
    ) -> str | None:
        """Bind a group to a district's announcements, or with "all" to the city reports.

        `private`: asked in a private chat, which cannot be bound.
        """
        self.require(actor, Role.DISPATCHER)
        if private:
            raise Refused("bind.group_only")
        if not target.strip():
            raise Refused("bind.usage")
        title = title[: limits.MAX_TITLE]
        if target.strip().lower() in CITY_WIDE:
            if actor.role == Role.DISPATCHER and actor.user.district_id is not None:
                raise Refused("bind.only_own")
            await self._bind(actor, chat_id, None, title)
            return None
        district = self.directory.district(target)
        if district is None:
            raise self.unknown_district(target)
        self._require_district(actor, district.id)
        await self._bind(actor, chat_id, district.id, title)
        return district.name

    async def _bind(self, actor: Person, chat_id: int, district_id: int | None, title: str) -> None:
        """Only a coordinator moves a group bound to something else (in the same statement)."""
        rebind = actor.role >= Role.COORDINATOR
        now = await self.store.bind_chat(
            chat_id, district_id, actor.id, self.clock(), title, rebind
        )
        if now.district_id != district_id:
            raise self._bound_elsewhere(now.district_id)

    def _bound_elsewhere(self, district_id: int | None) -> Refused:
        if district_id is None:
            return Refused("bind.taken_all")
        return Refused("bind.taken", district=self.district_name(district_id))

    async def unbind_group(self, actor: Person, chat_id: int, private: bool = False) -> str | None:
        """/unbind in a group: it stops receiving what it was bound to (returned: the
        district's name, or None for the city-wide reports). A dispatcher unbinds only their
        district's groups; the city-wide group only a coordinator."""
        self.require(actor, Role.DISPATCHER)
        if private:
            raise Refused("unbind.group_only")
        found = next((b for b in await self.store.bindings() if b.chat_id == chat_id), None)
        if found is None:
            raise Refused("unbind.not_bound")
        if actor.role < Role.COORDINATOR:
            if found.district_id is None:
                raise Refused("unbind.only_coordinator")
            self._require_district(actor, found.district_id)
        # only the binding seen here: one changed meanwhile is left alone
        if not await self.store.unbind_group(chat_id, found.district_id):
            raise Refused("unbind.not_bound")
        return self.district_name(found.district_id)

    async def move_chat(self, old_id: int, new_id: int) -> bool:
        """A group was upgraded to a supergroup, which has a new id: its binding, its waiting
        messages and, for a `report_chats` entry, the reports follow it. True when news."""
        return await self.store.move_chat(old_id, new_id, self.clock())

    def is_report_chat(self, chat_id: int) -> bool:
        return chat_id in self.config.schedule.report_chats
