"""The outbox: messages owed to chats, queued in the transaction that caused them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from snowbot.model import OutboxItem, Outgoing
from storage.sqlite.engine import Engine


def enqueue(db: sqlite3.Connection, messages: Iterable[Outgoing], now: float) -> int:
    """Queue messages; (key, chat) already queued are skipped. Returns how many were new."""
    queued = 0
    for m in messages:
        cur = db.execute(
            "INSERT OR IGNORE INTO outbox (key, chat_id, lang, text, task_id, template, "
            "markup, created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.key, m.chat_id, m.lang, m.text, m.task_id, m.template, m.markup, now, now),
        )
        queued += cur.rowcount
    return queued


def announced(db: sqlite3.Connection, task_id: int, chat_id: int, message_id: int) -> None:
    """A message about a task went out: it is edited when the task changes."""
    db.execute(
        "INSERT OR IGNORE INTO announcements (task_id, chat_id, message_id) VALUES (?, ?, ?)",
        (task_id, chat_id, message_id),
    )


def sent(db: sqlite3.Connection, item: OutboxItem, message_id: int, now: float) -> None:
    db.execute(
        "UPDATE outbox SET sent_at = ?, message_id = ?, attempts = attempts + 1 WHERE id = ?",
        (now, message_id, item.id),
    )
    if item.message.task_id is not None:
        announced(db, item.message.task_id, item.message.chat_id, message_id)


def retry(db: sqlite3.Connection, item: OutboxItem, due_at: float, error: str) -> None:
    db.execute(
        "UPDATE outbox SET due_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
        (due_at, error[:500], item.id),
    )


def failed(db: sqlite3.Connection, item: OutboxItem, now: float, error: str) -> None:
    db.execute(
        "UPDATE outbox SET failed_at = ?, attempts = attempts + 1, error = ? WHERE id = ?",
        (now, error[:500], item.id),
    )


class SqliteOutbox(Engine):
    """`snowbot.stores.OutboxStore` on SQLite."""

    async def enqueue(self, messages: Sequence[Outgoing], now: float) -> int:
        """Queue messages; returns how many were new."""
        return await self._write(enqueue, messages, now)

    async def queued(self, key: str) -> bool:
        """Whether anything was ever queued under this key (sent or not)."""
        return await self._one("SELECT 1 FROM outbox WHERE key = ? LIMIT 1", (key,)) is not None

    async def due_outbox(self, now: float, limit: int) -> list[OutboxItem]:
        """Messages waiting to be sent and due by now, oldest first; none of a chat whose
        older message waits for a retry (each chat gets its messages in order)."""
        rows = await self._all(
            "SELECT id, key, chat_id, lang, text, task_id, template, markup, attempts "
            "FROM outbox AS o "
            "WHERE sent_at IS NULL AND failed_at IS NULL AND due_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM outbox AS older WHERE older.chat_id = o.chat_id "
            "AND older.sent_at IS NULL AND older.failed_at IS NULL AND older.id < o.id "
            "AND older.due_at > ?) "
            "ORDER BY id LIMIT ?",
            (now, now, limit),
        )
        return [
            OutboxItem(
                r["id"],
                Outgoing(
                    key=r["key"],
                    chat_id=r["chat_id"],
                    lang=r["lang"],
                    text=r["text"],
                    task_id=r["task_id"],
                    template=r["template"],
                    markup=r["markup"],
                ),
                r["attempts"],
            )
            for r in rows
        ]

    async def outbox_sent(self, item: OutboxItem, message_id: int, now: float) -> None:
        """Record a delivery; a task's message becomes one of its announcements."""
        await self._write(sent, item, message_id, now)

    async def outbox_retry(self, item: OutboxItem, due_at: float, error: str) -> None:
        await self._write(retry, item, due_at, error)

    async def outbox_failed(self, item: OutboxItem, now: float, error: str) -> None:
        await self._write(failed, item, now, error)

    async def outbox_counts(self) -> tuple[int, int, int]:
        """(waiting, sent, failed), for the operator and the tests."""
        row = await self._one(
            "SELECT COALESCE(SUM(sent_at IS NULL AND failed_at IS NULL), 0) AS waiting, "
            "COALESCE(SUM(sent_at IS NOT NULL), 0) AS sent, "
            "COALESCE(SUM(failed_at IS NOT NULL), 0) AS failed FROM outbox"
        )
        assert row is not None
        return int(row["waiting"]), int(row["sent"]), int(row["failed"])
