"""Several webhook processes on one database: whose turn it is to handle a person's next
update, which processes are alive, and a person's backlog bounded.

Everything here is judged by the database's clock (`functions_of(db).now`: PostgreSQL's
now(); on SQLite, the one host's clock, which is the database's), never by a process's
own: a process is alive while its row in `processes` was renewed within `dead_after`
seconds of it. A turn or a kept update of a live process is never taken from it, however
old; one of a process that stopped renewing is taken over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace

from snowbot.domain.limits import FLOOD_QUIET_SECONDS
from snowbot.domain.messages import InTheirLanguage
from snowbot.domain.model import Turn
from storage.engine import Engine, every, one, reads, writes
from storage.functions import functions_of
from storage.queries.inbox import update_seen
from storage.queries.outbox import enqueue

# the process holding `{0}` (a row of turns or inbox) renewed its row within the number
# of seconds that parameter `{1}` gives, by the database's clock `{2}`: it is alive
_ALIVE = (
    "EXISTS (SELECT 1 FROM processes AS p WHERE p.holder = {0}.holder AND p.beat_at >= {2} - {1})"
)
# a kept update (`{}`: its row) not handled yet
_UNHANDLED = "NOT EXISTS (SELECT 1 FROM seen_updates AS s WHERE s.update_id = {}.update_id)"
# person ?1 has an update kept, unhandled and older than update ?2 (an act in the Mini App,
# a negative id never kept, is newer than every update kept)
_OLDER_WAITS = (
    "EXISTS (SELECT 1 FROM inbox AS older WHERE older.person = ?1 "
    f"AND (older.update_id < ?2 OR ?2 < 0) AND {_UNHANDLED.format('older')})"
)


def beat(db: sqlite3.Connection, holder: str) -> None:
    """Process `holder` is alive now, by the database's clock."""
    db.execute(
        f"INSERT INTO processes (holder, beat_at) VALUES (?, {functions_of(db).now}) "
        "ON CONFLICT (holder) DO UPDATE SET beat_at = excluded.beat_at",
        (holder,),
    )


def leave(db: sqlite3.Connection, holder: str) -> None:
    """Process `holder` stops: what it kept and did not handle is an orphan at once."""
    db.execute("DELETE FROM processes WHERE holder = ?", (holder,))
    db.execute("DELETE FROM turns WHERE holder = ?", (holder,))


def take_turn(
    db: sqlite3.Connection, person: int, update_id: int, holder: str, dead_after: float
) -> Turn:
    """This process's turn to handle a person's update, claimed in one statement: only
    when no older update of theirs is kept but unhandled, the update itself is not
    handled yet, and no other live process holds the person's turn. An act in the Mini
    App (a negative id, never kept) is newer than every update kept. (`expires_at`, a
    name from migration 12, holds when the turn was taken; it decides nothing.)"""
    now = functions_of(db).now
    if db.execute(
        f"INSERT INTO turns (person, update_id, holder, expires_at) SELECT ?1, ?2, ?3, {now} "
        "WHERE NOT EXISTS (SELECT 1 FROM seen_updates WHERE update_id = ?2) "
        f"AND NOT {_OLDER_WAITS} "
        "ON CONFLICT (person) DO UPDATE SET update_id = excluded.update_id, "
        "holder = excluded.holder, expires_at = excluded.expires_at "
        f"WHERE turns.holder = excluded.holder OR NOT {_ALIVE.format('turns', '?4', now)}",
        (person, update_id, holder, dead_after),
    ).rowcount:
        return Turn.TAKEN
    return Turn.HANDLED if update_seen(db, update_id) else Turn.WAIT


def turn_may_be_free(
    db: sqlite3.Connection, person: int, update_id: int, holder: str, dead_after: float
) -> bool:
    """Whether `take_turn` may give this update its turn now (or find it handled): a read,
    so that a process waiting for another's turn asks without writing."""
    now = functions_of(db).now
    row = one(
        db,
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM seen_updates WHERE update_id = ?2) OR ("
        f"NOT {_OLDER_WAITS} "
        "AND NOT EXISTS (SELECT 1 FROM turns WHERE turns.person = ?1 AND turns.holder <> ?3 "
        f"AND {_ALIVE.format('turns', '?4', now)}))",
        (person, update_id, holder, dead_after),
    )
    return row is not None


def give_back_turn(db: sqlite3.Connection, person: int, update_id: int, holder: str) -> None:
    """The update's handling ended (its replies handed over, or it failed)."""
    db.execute(
        "DELETE FROM turns WHERE person = ? AND update_id = ? AND holder = ?",
        (person, update_id, holder),
    )


def claim_orphans(db: sqlite3.Connection, holder: str, dead_after: float, limit: int) -> list[str]:
    """Bodies of kept, unhandled updates that no other live process has, oldest first,
    made this process's in the same statement (so no two survivors take one): those of a
    process that died or stopped, those kept by no process (a polling bot), and this
    process's own (the caller skips those it has in hand)."""
    now = functions_of(db).now
    rows = every(
        db,
        "UPDATE inbox SET holder = ?1 WHERE update_id IN (SELECT i.update_id FROM inbox AS i "
        f"WHERE {_UNHANDLED.format('i')} AND (i.holder IS NULL OR i.holder = ?1 OR NOT "
        f"{_ALIVE.format('i', '?2', now)}) ORDER BY i.update_id LIMIT ?3) "
        "RETURNING update_id, body",
        (holder, dead_after, limit),
    )
    return [str(r["body"]) for r in sorted(rows, key=lambda r: int(r["update_id"]))]


def keep_updates(
    db: sqlite3.Connection,
    updates: Sequence[tuple[int, str, int | None]],
    now: float,
    holder: str | None,
    bound: int,
    notices: Mapping[int, InTheirLanguage],
) -> list[int]:
    """Keep fetched updates (id, JSON body, whose) until they are handled, as process
    `holder`'s; returns those dropped instead: a person's update that finds `bound` of
    theirs kept and unhandled is marked handled (never handled, redelivered or replayed),
    and the first dropped of a flood queues the person's notice (`notices`)."""
    dropped: list[int] = []
    for update_id, body, person in updates:
        if db.execute(
            "INSERT INTO inbox (update_id, body, received_at, person, holder) "
            "SELECT ?1, ?2, ?3, ?4, ?5 WHERE ?4 IS NULL OR (SELECT COUNT(*) FROM "
            "(SELECT update_id FROM inbox WHERE person = ?4 ORDER BY update_id DESC "
            f"LIMIT ?6) AS recent WHERE {_UNHANDLED.format('recent')}) < ?6 "
            "ON CONFLICT (update_id) DO NOTHING",
            (update_id, body, now, person, holder, bound),
        ).rowcount:
            continue
        if person is None or one(db, "SELECT 1 FROM inbox WHERE update_id = ?", (update_id,)):
            continue  # kept already: a redelivery, recognised when handled
        dropped.append(update_id)
        drop_updates(db, [(update_id, person)], now, notices)
    return dropped


def drop_updates(
    db: sqlite3.Connection,
    updates: Sequence[tuple[int, int]],
    now: float,
    notices: Mapping[int, InTheirLanguage],
) -> None:
    """Mark updates (id, whose) handled, never to be handled: their process saw their
    person's backlog full (`keep_updates` would have dropped them). A flood's thousand
    cost one statement, and one look at the flood per person."""
    db.executemany(
        "INSERT INTO seen_updates (update_id, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(update_id, now) for update_id, _ in updates],
    )
    first = {person: update_id for update_id, person in reversed(updates)}
    for person, update_id in sorted(first.items()):
        _flood(db, update_id, person, now, notices)


def _flood(
    db: sqlite3.Connection,
    update_id: int,
    person: int,
    now: float,
    notices: Mapping[int, InTheirLanguage],
) -> None:
    """The person's update was dropped: tell them, once a flood, in the language they
    chose with /lang if they did."""
    if _new_flood(db, person, update_id, now) and person in notices:
        chosen = one(db, "SELECT language FROM users WHERE id = ? AND lang_chosen = 1", (person,))
        notice = notices[person].said_in(str(chosen["language"]) if chosen else None)
        # once a flood: keyed by its first dropped update
        enqueue(db, [replace(notice, key=f"{notice.key}:{update_id}")], now)


def _new_flood(db: sqlite3.Connection, person: int, update_id: int, now: float) -> bool:
    """Whether this drop starts a flood: none was dropped before, or the last drop is more
    than FLOOD_QUIET_SECONDS old and every update of theirs kept before it has been handled
    since (the backlog drained in between: two processes draining a flood's backlog turn
    by turn do not make it two floods). Notes the drop either way."""
    last = one(db, "SELECT last_dropped, at FROM floods WHERE person = ?", (person,))
    new = last is None or (
        now - float(last["at"]) > FLOOD_QUIET_SECONDS
        and not one(
            db,
            "SELECT 1 FROM inbox AS i WHERE i.person = ? AND i.update_id < ? AND "
            + _UNHANDLED.format("i"),
            (person, int(last["last_dropped"])),
        )
    )
    db.execute(
        "INSERT INTO floods (person, last_dropped, at) VALUES (?, ?, ?) ON CONFLICT (person) "
        "DO UPDATE SET last_dropped = excluded.last_dropped, at = excluded.at",
        (person, update_id, now),
    )
    return new


class TurnsQueries(Engine):
    """The turns part of `snowbot.domain.delivery_stores.InboxStore` on SQLite."""

    beat = writes(beat)
    leave = writes(leave)
    take_turn = writes(take_turn)
    give_back_turn = writes(give_back_turn)
    turn_may_be_free = reads(turn_may_be_free)
    claim_orphans = writes(claim_orphans)
    keep_updates = writes(keep_updates)
    drop_updates = writes(drop_updates)
