"""Groups bound to a district (or to the city's reports), chats that moved, and the
messages that announce each task, kept so they can be edited when the task changes."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from snowbot.domain.messages import Binding, Outgoing
from storage.engine import Engine, every, from_row, one, reads, writes
from storage.queries.outbox import announced, enqueue


def bind_chat(
    db: sqlite3.Connection,
    chat_id: int,
    district_id: int | None,
    by: int,
    now: float,
    title: str = "",
    rebind: bool = True,
) -> Binding:
    """This group receives the district's announcements (None: the city-wide reports).

    Without `rebind`, a group bound to something else stays as it is. Returns the
    group's binding as it is now.
    """
    db.execute(
        "INSERT INTO bindings (chat_id, district_id, bound_by, bound_at, title) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
        "district_id = excluded.district_id, bound_by = excluded.bound_by, "
        "bound_at = excluded.bound_at, title = excluded.title "
        # (COALESCE rather than SQLite's `IS`, which PostgreSQL reads only with NULL)
        "WHERE ? = 1 OR COALESCE(bindings.district_id, -1) = COALESCE(excluded.district_id, -1)",
        (chat_id, district_id, by, now, title, int(rebind)),
    )
    found = binding_of(db, chat_id)
    assert found is not None
    return found


def binding_of(db: sqlite3.Connection, chat_id: int) -> Binding | None:
    row = one(
        db,
        "SELECT chat_id, district_id, bound_by, title FROM bindings WHERE chat_id = ?",
        (chat_id,),
    )
    return from_row(Binding, row) if row else None


def unbind_group(db: sqlite3.Connection, chat_id: int, district_id: int | None) -> bool:
    """/unbind: forget the group's binding, only if it is still the one the caller saw."""
    cur = db.execute(
        "DELETE FROM bindings WHERE chat_id = ? AND COALESCE(district_id, -1) = COALESCE(?, -1)",
        (chat_id, district_id),
    )
    return cur.rowcount > 0


def bound_by(db: sqlite3.Connection, user_id: int) -> list[Binding]:
    """The groups this person bound (and nobody rebound since)."""
    rows = every(
        db,
        "SELECT chat_id, district_id, bound_by, title FROM bindings WHERE bound_by = ? "
        "ORDER BY chat_id",
        (user_id,),
    )
    return [from_row(Binding, r) for r in rows]


def unbind_chat(
    db: sqlite3.Connection, chat_id: int, notices: Sequence[Outgoing] = (), now: float = 0.0
) -> bool:
    """Forget a group's binding and queue `notices` about it, in one transaction."""
    if db.execute("DELETE FROM bindings WHERE chat_id = ?", (chat_id,)).rowcount == 0:
        return False
    enqueue(db, notices, now)
    return True


def move_chat(db: sqlite3.Connection, old_id: int, new_id: int, now: float) -> bool:
    """A group became a supergroup with a new id: its binding and its waiting messages
    move with it. Returns whether this was news (not moved before)."""
    known = one(db, "SELECT new_id FROM moved_chats WHERE old_id = ?", (old_id,))
    db.execute(
        "INSERT INTO moved_chats (old_id, new_id, moved_at) VALUES (?, ?, ?) "
        "ON CONFLICT (old_id) DO UPDATE SET new_id = excluded.new_id",
        (old_id, new_id, now),
    )
    # a binding the new id already has is the newer one: it stays
    # (conditions rather than UPDATE OR IGNORE, which PostgreSQL does not have)
    db.execute(
        "UPDATE bindings SET chat_id = ?1 WHERE chat_id = ?2 "
        "AND NOT EXISTS (SELECT 1 FROM bindings b WHERE b.chat_id = ?1)",
        (new_id, old_id),
    )
    db.execute("DELETE FROM bindings WHERE chat_id = ?", (old_id,))
    db.execute(
        "UPDATE outbox SET chat_id = ?1 "
        "WHERE chat_id = ?2 AND sent_at IS NULL AND failed_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key = outbox.key AND o.chat_id = ?1)",
        (new_id, old_id),
    )
    # what stayed behind is already queued for the new id under the same key
    db.execute(
        "UPDATE outbox SET failed_at = ?, error = 'the chat moved' "
        "WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
        (now, old_id),
    )
    return known is None or known["new_id"] != new_id


def mark_stale(db: sqlite3.Connection, task_ids: Sequence[int], now: float) -> None:
    """These tasks' announcements could not all be edited: bring them up to date later."""
    db.executemany(
        "INSERT INTO stale_announcements (task_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(task_id, now) for task_id in task_ids],
    )


def take_stale(db: sqlite3.Connection, limit: int) -> list[int]:
    """Up to `limit` tasks with stale announcements, oldest first, no longer marked
    (whoever takes them edits them, and marks again what still fails)."""
    rows = db.execute(
        "DELETE FROM stale_announcements WHERE task_id IN (SELECT task_id "
        "FROM stale_announcements ORDER BY since LIMIT ?) RETURNING task_id",
        (limit,),
    ).fetchall()
    return [int(r["task_id"]) for r in rows]


def bindings(db: sqlite3.Connection) -> list[Binding]:
    rows = every(db, "SELECT chat_id, district_id, bound_by, title FROM bindings ORDER BY chat_id")
    return [from_row(Binding, r) for r in rows]


def moved_chats(db: sqlite3.Connection) -> dict[int, int]:
    """Old id -> new id of every group that became a supergroup."""
    return {r["old_id"]: r["new_id"] for r in every(db, "SELECT old_id, new_id FROM moved_chats")}


def announcements(db: sqlite3.Connection, task_id: int) -> list[tuple[int, int]]:
    """(chat id, message id) of every message announcing the task."""
    rows = every(db, "SELECT chat_id, message_id FROM announcements WHERE task_id = ?", (task_id,))
    return [(int(r["chat_id"]), int(r["message_id"])) for r in rows]


def any_stale(db: sqlite3.Connection) -> bool:
    row = one(db, "SELECT EXISTS (SELECT 1 FROM stale_announcements) AS stale")
    return row is not None and bool(row["stale"])


class ChatsQueries(Engine):
    """`snowbot.domain.delivery_stores.ChatStore` on SQLite."""

    bind_chat = writes(bind_chat)
    unbind_chat = writes(unbind_chat)
    unbind_group = writes(unbind_group)
    bound_by = reads(bound_by)
    bindings = reads(bindings)
    move_chat = writes(move_chat)
    moved_chats = reads(moved_chats)
    add_announcement = writes(announced)
    announcements = reads(announcements)
    mark_stale = writes(mark_stale)

    async def take_stale(self, limit: int) -> list[int]:
        """Up to `limit` tasks with stale announcements, oldest first, no longer marked."""
        # the common case, nothing stale, costs a read and no write transaction
        if not await self._read(any_stale):
            return []
        return await self._write(take_stale, limit)
