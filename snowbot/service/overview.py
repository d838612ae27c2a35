"""The one-screen overview's reads through the service, and the link /dashboard gives."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

from snowbot.domain.counts import StreetStates
from snowbot.domain.model import Task
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service.core import ServiceCore
from snowbot.service.results import Person
from snowbot.text.overview import StreetLayer, turnout_series

log = logging.getLogger("snowbot.text.overview")
PROOFS_READ = 10_000  # the latest proof photos looked through for one street


class OverviewService(ServiceCore):
    # where the overview was found listening once started (set by snowbot.app.wiring)
    overview_address: str | None = None
    # the token it checks when none is configured (a fresh one outside `snowbot run`)
    overview_token: str | None = None
    _layer: tuple[object, StreetLayer] | None = None

    async def street_map(self) -> dict[str, Any]:
        """Every street of the city with its state, as a GeoJSON FeatureCollection."""
        layer, states = await self.street_layer()
        found: dict[str, Any] = json.loads(layer.geojson(states))
        return found

    async def street_layer(self) -> tuple[StreetLayer, StreetStates]:
        """The city's streets, serialised once per city (an import makes a new one), and
        their states now."""
        incident = await self.incident()
        states = await self.store.street_states(incident.id)
        directory = self.directory
        if self._layer is None or self._layer[0] is not directory:
            lines = await self.store.street_lines()
            # a unit is never renamed, and streets change unit only by an import (a new
            # Directory): the names are read with the streets
            units = {u.id: u.name for u in await self.store.units()}
            # seconds of work for a big city: in a thread, so the bot keeps answering
            layer = await asyncio.to_thread(StreetLayer, directory.streets, lines, units)
            self._layer = (directory, layer)
        return self._layer[1], states

    async def positions(self) -> list[tuple[float, float, int]]:
        """(lat, lon, headcount) of every open shift: where, never who."""
        incident = await self.incident()
        return await self.store.positions(incident.id)

    async def turnout(self) -> dict[str, Any]:
        """Person-times and people on duty hour by hour, per district (city time)."""
        incident = await self.incident()
        rows = await self.store.turnout_by_hour(incident.id)
        return turnout_series(
            rows, self.directory.district_names, self.clock(), self.config.city.timezone
        )

    async def proof_photos(self, actor: Person, limit: int) -> list[tuple[Task, str]]:
        """Done tasks with their proof photo's file id, the latest first: for dispatchers
        (a bound one sees their district's) and coordinators (the Mini App)."""
        self.require(actor, Role.DISPATCHER)
        own = actor.user.district_id if actor.role == Role.DISPATCHER else None
        incident = await self.incident()
        return await self.store.done_proofs(incident.id, own, limit)

    async def street_proofs(self, street_id: int) -> list[tuple[Task, str]]:
        """A street's done tasks with their proof photo's file id, the latest first: for
        the overview's street details (its token holders see the whole city)."""
        incident = await self.incident()
        done = await self.store.done_proofs(incident.id, None, PROOFS_READ)
        return [(task, file_id) for task, file_id in done if task.street_id == street_id]

    async def database_reachable(self) -> bool:
        """Whether the database answers (the overview's /healthz)."""
        try:
            await self.store.schema_version()
        except Exception as exc:  # any failure means "not healthy", said once in the log
            log.warning("the database does not answer: %r", exc)
            return False
        return True

    def dashboard_link(self, actor: Person, private: bool) -> str:
        """/dashboard: the overview's address for a coordinator, in a private chat only
        (the link may carry the token)."""
        self.require(actor, Role.COORDINATOR)
        if not private:
            raise Refused("dashboard.private_only")
        dashboard = self.config.dashboard
        base = dashboard.public_url or self.overview_address
        if not dashboard.enabled or not base:
            raise Refused("dashboard.off")
        token = dashboard.token or self.overview_token
        if not token:  # never a link that would not open
            raise Refused("dashboard.off")
        return f"{base}/?token={quote(token, safe='')}"
