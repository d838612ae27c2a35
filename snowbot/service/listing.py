"""Which live tasks a person sees, nearest first when their position is known."""

from __future__ import annotations

from snowbot.domain import limits
from snowbot.domain.geo import geodesic_km
from snowbot.domain.model import Incident, Task
from snowbot.service.core import ServiceCore
from snowbot.service.results import NearbyTask, Person


class TaskListing(ServiceCore):
    async def nearby_tasks(
        self,
        lat: float | None,
        lon: float | None,
        only_wanting: bool = False,
        incident: Incident | None = None,
        exact: int = limits.TASKS_LISTED,
    ) -> list[NearbyTask]:
        """Live tasks, urgent ones first; then nearest first when a position is known, else
        oldest first.

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
            tasks.sort(
                key=lambda t: (
                    not t.urgent,
                    t.accepted >= t.needed,
                    t.accepted > 0,
                    t.created_at,
                    t.id,
                )
            )
            return [NearbyTask(t, None) for t in tasks]
        # rank every task cheaply, then measure the ones anyone will see exactly
        listed = [NearbyTask(t, self._task_km(t, lat, lon, exact=False)) for t in tasks]
        listed.sort(key=lambda n: (not n.task.urgent, n.km, n.task.id))
        shown = [NearbyTask(n.task, self._task_km(n.task, lat, lon)) for n in listed[:exact]]
        shown.sort(key=lambda n: (not n.task.urgent, n.km, n.task.id))
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

    async def task(self, task_id: int) -> Task | None:
        """A task of the current incident as it is now; None for another incident's."""
        incident = await self.incident()
        return await self.store.get_task(incident.id, task_id)
