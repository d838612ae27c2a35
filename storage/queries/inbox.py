"""Updates taken in: kept as fetched, and marked once handled, so a redelivery changes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from snowbot.domain.messages import OutboxItem, Outgoing
from storage.engine import Engine, every, finishes, one, reads, writes
from storage.queries.outbox import queue_and_claim


def update_seen(db: sqlite3.Connection, update_id: int) -> bool:
    """Whether a Telegram update was already handled (then this is a redelivery)."""
    return one(db, "SELECT 1 FROM seen_updates WHERE update_id = ?", (update_id,)) is not None


def mark_update(db: sqlite3.Connection, update_id: int, now: float) -> None:
    """Record a Telegram update as handled."""
    db.execute(
        "INSERT INTO seen_updates (update_id, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (update_id, now),
    )


def finish_update(
    db: sqlite3.Connection, update_id: int, replies: Sequence[Outgoing], now: float
) -> list[OutboxItem]:
    """Mark an update handled and queue its replies, in the transaction that holds what
    the update changed (`snowbot.domain.handling`): an update handled again after a crash has
    changed nothing and replied to no one yet. Returns the replies claimed
    to be sent at once (see `storage.queries.outbox.claim_outbox`)."""
    mark_update(db, update_id, now)
    # (a person's turn, with several webhook processes, lasts until the update's replies
    # are handed over: `handlers.ordering.SharedUpdateProcessor` gives it back then)
    return queue_and_claim(db, replies, now)


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
    db.execute("DELETE FROM floods WHERE at < ?", (before,))
    # (a process not heard of for as long: the database's clock, in the same seconds)
    db.execute("DELETE FROM processes WHERE beat_at < ?", (before,))
    return db.execute("DELETE FROM seen_updates WHERE seen_at < ?", (before,)).rowcount


class InboxQueries(Engine):
    """`snowbot.domain.delivery_stores.InboxStore` on SQLite."""

    update_seen = reads(update_seen)
    mark_update = writes(mark_update)
    finish_update = finishes(finish_update)  # commits the update's changes with it
    unhandled_updates = reads(unhandled_updates)
    forget_updates = writes(forget_updates)
