"""Checking in and out, moving with a live location, and the welfare of long shifts."""

from __future__ import annotations

from collections.abc import Sequence

from snowbot.domain import limits
from snowbot.domain.geo import valid_position
from snowbot.domain.messages import Outgoing
from snowbot.domain.model import CheckInKind, Resized, Shift
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service.places import PlaceService
from snowbot.service.results import CheckInResult, CheckOutResult, Person, check_count


class ShiftService(PlaceService):
    async def ask_check_in(self, person: Person, headcount: int) -> None:
        """Remember "/checkin N" until the location comes."""
        self.require(person, Role.CADRE)
        check_count(headcount, limits.MAX_TEAM, "checkin.bad_count")
        await self.store.set_pending_checkin(person.id, headcount, self.clock())

    async def check_in_waiting(self, person: Person) -> bool:
        """Whether a "/checkin N" of the person's still waits for the location."""
        since = self.clock() - limits.PENDING_CHECKIN_SECONDS
        return await self.store.pending_checkin(person.id, since)

    async def check_in(self, person: Person, lat: float, lon: float) -> CheckInResult:
        """A shared location: open, update or reopen the shift (docs/commands.md "What it does, by
        role").

        A team above `max_team_unconfirmed` waits for a dispatcher instead; more than
        `max_checkins_per_hour` new shifts an hour are refused (docs/security.md).
        """
        self.require(person, Role.CADRE)
        nearest = self.street_near(lat, lon, too_far="checkin.too_far")
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
            max_unconfirmed=self.config.access.max_team_unconfirmed,
            max_new_per_hour=self.config.access.max_checkins_per_hour,
        )
        if done.kind == CheckInKind.LIMITED:
            raise Refused("checkin.limit", max=self.config.access.max_checkins_per_hour)
        if done.kind == CheckInKind.WAITING:
            return CheckInResult(done.kind, None, nearest.street, nearest.km, [], done.request)
        nearby = [
            n
            for n in await self.nearby_tasks(lat, lon, only_wanting=True, incident=incident)
            if n.km is not None
            and n.km <= self.config.geo.max_distance_km  # "nearby": not in another town
        ]
        return CheckInResult(
            done.kind, done.shift, nearest.street, nearest.km, nearby[: limits.NEARBY_TASKS]
        )

    async def move(self, person: Person, lat: float, lon: float) -> bool:
        """A live location's update: move the open shift, if any; never opens one."""
        if not valid_position(lat, lon) or person.role < Role.CADRE:
            return False
        if not self.in_city(lat, lon):  # across the river: the shift stays where it was
            return False
        nearest = self.directory.nearest(lat, lon, self.config.geo.max_distance_km)
        if nearest is None or nearest.km > self.config.geo.max_distance_km:
            return False
        incident = await self.incident()
        return await self.store.move_shift(
            incident.id, person.id, nearest.street.id, lat, lon, self.clock()
        )

    async def resize(self, person: Person, headcount: int) -> Resized:
        """`/checkin N` on duty with a new N (docs/commands.md "Everyone affected hears it"): the
        shift's headcount changes (see
        `storage.queries.resize`); "not_on_duty" or "same" change nothing."""
        self.require(person, Role.CADRE)
        check_count(headcount, limits.MAX_TEAM, "checkin.bad_count")
        incident = await self.incident()
        held = await self.store.held_tasks(incident.id, person.id)
        reopen = await self.reopen_notices(held, f"resize:{person.id}")
        limit = self.config.access.max_team_unconfirmed
        return await self.store.resize_shift(
            incident.id, person.id, headcount, self.clock(), limit, reopen
        )

    async def check_out(self, person: Person) -> CheckOutResult:
        """Close the shift; its places go back to their tasks (docs/commands.md "Places")."""
        incident = await self.incident()
        held = await self.store.held_tasks(incident.id, person.id)
        reopen = await self.reopen_notices(held, f"checkout:{person.id}")
        shift = await self.store.check_out(incident.id, person.id, self.clock(), reopen=reopen)
        if shift is None:
            raise Refused("checkout.not_on_duty")
        assert shift.ended_at is not None
        return CheckOutResult(shift, shift.ended_at - shift.started_at, [t.id for t in held])

    # -- welfare (the sweeps) --------------------------------------------------------

    async def overdue_shifts(self, since_before: float) -> list[Shift]:
        """Open shifts of the current incident whose stretch on duty began by then."""
        incident = await self.incident()
        return await self.store.overdue_shifts(incident.id, since_before)

    async def warn_shift(self, shift: Shift, messages: Sequence[Outgoing]) -> int:
        """Queue a welfare reminder, only while that stretch of the shift is still open."""
        return await self.store.warn_shift(shift, messages, self.clock())

    async def close_overdue_shift(self, shift: Shift, messages: Sequence[Outgoing]) -> Shift | None:
        """Close a shift after max_shift and queue its messages, unless it ended meanwhile;
        its places go back to their tasks, as at a check-out."""
        held = await self.store.held_tasks(shift.incident_id, shift.user_id)
        reopen = await self.reopen_notices(held, f"welfare:{shift.id}")
        return await self.store.close_shift_for_welfare(shift, messages, self.clock(), reopen)
