"""Groups bound to a district (or to the city's reports), chats that moved, and the
messages that announce each task, kept so they can be edited when the task changes."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from snowbot.model import Binding, Outgoing
from storage.sqlite.engine import Engine, one
from storage.sqlite.outbox import announced, enqueue


def bind_chat(
    db: sqlite3.Connection, chat_id: int, district_id: int | None, by: int, now: float, title: str
) -> None:
    db.execute(
        "INSERT INTO bindings (chat_id, district_id, bound_by, bound_at, title) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET "
        "district_id = excluded.district_id, bound_by = excluded.bound_by, "
        "bound_at = excluded.bound_at, title = excluded.title",
        (chat_id, district_id, by, now, title),
    )


def unbind_chat(
    db: sqlite3.Connection, chat_id: int, notices: Sequence[Outgoing], now: float
) -> bool:
    if db.execute("DELETE FROM bindings WHERE chat_id = ?", (chat_id,)).rowcount == 0:
        return False
    enqueue(db, notices, now)
    return True


def move_chat(db: sqlite3.Connection, old_id: int, new_id: int, now: float) -> bool:
    known = one(db, "SELECT new_id FROM moved_chats WHERE old_id = ?", (old_id,))
    db.execute(
        "INSERT INTO moved_chats (old_id, new_id, moved_at) VALUES (?, ?, ?) "
        "ON CONFLICT (old_id) DO UPDATE SET new_id = excluded.new_id",
        (old_id, new_id, now),
    )
    # a binding the new id already has is the newer one: it stays
    db.execute("UPDATE OR IGNORE bindings SET chat_id = ? WHERE chat_id = ?", (new_id, old_id))
    db.execute("DELETE FROM bindings WHERE chat_id = ?", (old_id,))
    db.execute(
        "UPDATE OR IGNORE outbox SET chat_id = ? "
        "WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
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
    db.executemany(
        "INSERT OR IGNORE INTO stale_announcements (task_id, since) VALUES (?, ?)",
        [(task_id, now) for task_id in task_ids],
    )


def take_stale(db: sqlite3.Connection, limit: int) -> list[int]:
    rows = db.execute(
        "DELETE FROM stale_announcements WHERE task_id IN (SELECT task_id "
        "FROM stale_announcements ORDER BY since LIMIT ?) RETURNING task_id",
        (limit,),
    ).fetchall()
    return [int(r["task_id"]) for r in rows]


class SqliteChats(Engine):
    """`snowbot.stores.ChatStore` on SQLite."""

    async def bind_chat(
        self, chat_id: int, district_id: int | None, by: int, now: float, title: str = ""
    ) -> None:
        await self._write(bind_chat, chat_id, district_id, by, now, title)

    async def unbind_chat(
        self, chat_id: int, notices: Sequence[Outgoing] = (), now: float = 0.0
    ) -> bool:
        """Forget a group's binding and queue `notices` about it, in one transaction."""
        return await self._write(unbind_chat, chat_id, notices, now)

    async def bindings(self) -> list[Binding]:
        rows = await self._all(
            "SELECT chat_id, district_id, bound_by, title FROM bindings ORDER BY chat_id"
        )
        return [Binding(r["chat_id"], r["district_id"], r["bound_by"], r["title"]) for r in rows]

    async def move_chat(self, old_id: int, new_id: int, now: float) -> bool:
        """A group became a supergroup with a new id: its binding and its waiting messages
        move with it. Returns whether this was news (not moved before)."""
        return await self._write(move_chat, old_id, new_id, now)

    async def moved_chats(self) -> dict[int, int]:
        rows = await self._all("SELECT old_id, new_id FROM moved_chats")
        return {r["old_id"]: r["new_id"] for r in rows}

    async def add_announcement(self, task_id: int, chat_id: int, message_id: int) -> None:
        await self._write(announced, task_id, chat_id, message_id)

    async def announcements(self, task_id: int) -> list[tuple[int, int]]:
        rows = await self._all(
            "SELECT chat_id, message_id FROM announcements WHERE task_id = ?", (task_id,)
        )
        return [(int(r["chat_id"]), int(r["message_id"])) for r in rows]

    async def mark_stale(self, task_ids: Sequence[int], now: float) -> None:
        """These tasks' announcements could not all be edited: bring them up to date later."""
        await self._write(mark_stale, task_ids, now)

    async def take_stale(self, limit: int) -> list[int]:
        """Up to `limit` tasks with stale announcements, oldest first, no longer marked
        (whoever takes them edits them, and marks again what still fails)."""
        # the common case, nothing stale, costs a read and no write transaction
        row = await self._one("SELECT EXISTS (SELECT 1 FROM stale_announcements) AS stale")
        if row is None or not row["stale"]:
            return []
        return await self._write(take_stale, limit)
