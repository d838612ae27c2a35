"""The named queries of every aggregate, written once in the SQL both engines accept:
each module holds one aggregate's queries and its part of the store, and `Queries` puts them
together; `storage.sqlite` and `storage.postgres` each run them on their own engine (what an
engine spells otherwise is in its `functions` module).
"""

from __future__ import annotations

from snowbot.domain.stores import Store
from storage.queries.chats import ChatsQueries
from storage.queries.closing import ClosingQueries
from storage.queries.counts import CountsQueries
from storage.queries.district import DistrictQueries
from storage.queries.inbox import InboxQueries
from storage.queries.incidents import IncidentsQueries
from storage.queries.invitations import InvitationsQueries
from storage.queries.outbox import OutboxQueries
from storage.queries.overview import OverviewQueries
from storage.queries.people import PeopleQueries
from storage.queries.places import PlacesQueries
from storage.queries.report_desk import ReportDeskQueries
from storage.queries.residents import ResidentsQueries
from storage.queries.resize import ResizeQueries
from storage.queries.shifts import ShiftsQueries
from storage.queries.streets import StreetsQueries
from storage.queries.tasks import TasksQueries
from storage.queries.teams import TeamsQueries
from storage.queries.turns import TurnsQueries
from storage.queries.units import UnitsQueries


class Queries(
    IncidentsQueries,
    PeopleQueries,
    InvitationsQueries,
    StreetsQueries,
    ShiftsQueries,
    ResizeQueries,
    TeamsQueries,
    TasksQueries,
    PlacesQueries,
    CountsQueries,
    DistrictQueries,
    ChatsQueries,
    InboxQueries,
    TurnsQueries,
    OutboxQueries,
    ResidentsQueries,
    ReportDeskQueries,
    ClosingQueries,
    UnitsQueries,
    OverviewQueries,
):
    """`snowbot.domain.stores.Store`: every aggregate's named queries, on one engine."""


def _as_store(store: Queries) -> Store:
    """Never called: mypy checks here that Queries is every store the domain asks for."""
    return store


__all__ = ["Queries"]
