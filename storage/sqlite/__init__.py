"""The embedded default engine: aiosqlite on one SQLite file in WAL mode.

`engine` runs the queries (group commit, snapshots, migrations); each other module
holds one aggregate's named queries and its part of the store. The queries are written
in the SQL PostgreSQL accepts too (storage.postgres runs the same ones); `functions`
holds SQLite's spelling of the few functions the engines name otherwise.
"""

from __future__ import annotations

from pathlib import Path

from snowbot.domain.stores import Store
from storage.sqlite.chats import SqliteChats
from storage.sqlite.closing import SqliteClosing
from storage.sqlite.counts import SqliteCounts
from storage.sqlite.district import SqliteDistrict
from storage.sqlite.engine import connect
from storage.sqlite.inbox import SqliteInbox
from storage.sqlite.incidents import SqliteIncidents
from storage.sqlite.invitations import SqliteInvitations
from storage.sqlite.outbox import SqliteOutbox
from storage.sqlite.overview import SqliteOverview
from storage.sqlite.people import SqlitePeople
from storage.sqlite.places import SqlitePlaces
from storage.sqlite.report_desk import SqliteReportDesk
from storage.sqlite.residents import SqliteResidents
from storage.sqlite.resize import SqliteResize
from storage.sqlite.shifts import SqliteShifts
from storage.sqlite.streets import SqliteStreets
from storage.sqlite.tasks import SqliteTasks
from storage.sqlite.teams import SqliteTeams
from storage.sqlite.turns import SqliteTurns
from storage.sqlite.units import SqliteUnits


class SqliteStore(
    SqliteIncidents,
    SqlitePeople,
    SqliteInvitations,
    SqliteStreets,
    SqliteShifts,
    SqliteResize,
    SqliteTeams,
    SqliteTasks,
    SqlitePlaces,
    SqliteCounts,
    SqliteDistrict,
    SqliteChats,
    SqliteInbox,
    SqliteTurns,
    SqliteOutbox,
    SqliteResidents,
    SqliteReportDesk,
    SqliteClosing,
    SqliteUnits,
    SqliteOverview,
):
    """`snowbot.domain.stores.Store` on SQLite: every aggregate's store on one connection."""


def _as_store(store: SqliteStore) -> Store:
    """Never called: mypy checks here that SqliteStore is every store the domain asks for."""
    return store


async def open_store(path: Path | str) -> SqliteStore:
    """Open (creating if needed) the database file and bring its schema up to date."""
    db = await connect(path)
    store = SqliteStore(db)
    try:
        await store.migrate()
    except BaseException:
        await db.close()
        raise
    return store


__all__ = ["SqliteStore", "open_store"]
