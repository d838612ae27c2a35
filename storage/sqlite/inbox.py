"""Updates taken in: kept as fetched, and marked once handled, so a redelivery changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from snowbot.model import OutboxItem, Outgoing, Turn
from storage.sqlite.engine import Engine, every, finishes, one, reads, writes
from storage.sqlite.outbox import queue_and_claim


def update_seen(db: sqlite3.Connection, update_id: int) -> bool:
    """Whether a Telegram update was already handled (then this is a redelivery)."""
    return one(db, "SELECT 1 FROM seen_updates WHERE update_id = ?", (update_id,)) is not None


def mark_update(db: sqlite3.Connection, update_id: int, now: float) -> None:
    """Record a Telegram update as handled."""
    db.execute(
        "INSERT OR IGNORE INTO seen_updates (update_id, seen_at) VALUES (?, ?)", (update_id, now)
    )


def finish_update(
    db: sqlite3.Connection, update_id: int, replies: Sequence[Outgoing], now: float
) -> list[OutboxItem]:
    """Mark an update handled and queue its replies, in the transaction that holds what
    the update changed (`snowbot.handling`): an update handled again after a crash has
    changed nothing and replied to no one yet. Returns the replies claimed
    to be sent at once (see `storage.sqlite.outbox.claim_outbox`)."""
    mark_update(db, update_id, now)
    # (a person's turn, with several webhook processes, lasts until the update's replies
    # are handed over: `handlers.ordering.SharedUpdateProcessor` gives it back then)
    return queue_and_claim(db, replies, now)


def keep_updates(
    db: sqlite3.Connection, updates: Sequence[tuple[int, str, int | None]], now: float
) -> None:
    """Keep fetched updates (id, JSON body, whose: sender or chat) until they are handled."""
    db.executemany(
        "INSERT OR IGNORE INTO inbox (update_id, body, received_at, person) VALUES (?, ?, ?, ?)",
        [(update_id, body, now, person) for update_id, body, person in updates],
    )


def take_turn(
    db: sqlite3.Connection, person: int, update_id: int, holder: str, now: float, until: float
) -> Turn:
    """This process's turn to handle a person's update, claimed in one statement: only
    when no older update of theirs is kept but unhandled, the update itself is not
    handled yet, and no other process holds the person's turn (or its turn expired)."""
    if db.execute(
        "INSERT INTO turns (person, update_id, holder, expires_at) "
        "SELECT ?1, ?2, ?3, ?5 "
        "WHERE NOT EXISTS (SELECT 1 FROM seen_updates WHERE update_id = ?2) "
        "AND NOT EXISTS (SELECT 1 FROM inbox AS older WHERE older.person = ?1 "
        "AND older.update_id < ?2 AND NOT EXISTS "
        "(SELECT 1 FROM seen_updates AS s WHERE s.update_id = older.update_id)) "
        "ON CONFLICT (person) DO UPDATE SET update_id = excluded.update_id, "
        "holder = excluded.holder, expires_at = excluded.expires_at "
        "WHERE turns.expires_at < ?4",
        (person, update_id, holder, now, until),
    ).rowcount:
        return Turn.TAKEN
    return Turn.HANDLED if update_seen(db, update_id) else Turn.WAIT


def give_back_turn(db: sqlite3.Connection, person: int, update_id: int, holder: str) -> None:
    """A turn taken but not ended by the handling (it failed, or the process stops)."""
    db.execute(
        "DELETE FROM turns WHERE person = ? AND update_id = ? AND holder = ?",
        (person, update_id, holder),
    )


def orphan_updates(db: sqlite3.Connection, before: float, limit: int) -> list[str]:
    """Bodies of updates kept before `before` and still unhandled, oldest first: the
    process that took them in died (or is far behind)."""
    rows = every(
        db,
        "SELECT body FROM inbox WHERE received_at < ? AND update_id NOT IN "
        "(SELECT update_id FROM seen_updates) ORDER BY update_id LIMIT ?",
        (before, limit),
    )
    return [str(r["body"]) for r in rows]


def unhandled_updates(db: sqlite3.Connection) -> list[str]:
    """Bodies of the updates kept but never handled, oldest first."""
    rows = every(
        db,
        "SELECT body FROM inbox WHERE update_id NOT IN (SELECT update_id FROM seen_updates) "
        "ORDER BY update_id",
    )
    return [str(r["body"]) for r in rows]


def forget_updates(db: sqlite3.Connection, before: float) -> int:
    """Drop the record of updates seen before `before`; Telegram has forgotten them too."""
    db.execute("DELETE FROM inbox WHERE received_at < ?", (before,))
    db.execute("DELETE FROM place_updates WHERE at < ?", (before,))
    return db.execute("DELETE FROM seen_updates WHERE seen_at < ?", (before,)).rowcount


class SqliteInbox(Engine):
    """`snowbot.stores.InboxStore` on SQLite."""

    update_seen = reads(update_seen)
    mark_update = writes(mark_update)
    finish_update = finishes(finish_update)  # commits the update's changes with it
    keep_updates = writes(keep_updates)
    unhandled_updates = reads(unhandled_updates)
    forget_updates = writes(forget_updates)
    take_turn = writes(take_turn)
    give_back_turn = writes(give_back_turn)
    orphan_updates = reads(orphan_updates)
