"""The outbox: messages owed to chats, queued in the transaction that caused them.

A message is claimed (`sent_at` set, `message_id` still NULL) in a transaction of its
own just before it is handed to Telegram, so that no two senders take it and a sender
killed with it in hand never sends it again: whether Telegram got it is unknowable
then, and a reply twice is what the claim rules out. An answer from Telegram either
records the message id or gives the claim back (a retry, or failed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from snowbot.domain.messages import OutboxItem, Outgoing, SentCopy, lane_of
from storage.engine import Engine, every, from_row, one, reads, writes

# an edit of a message being sent waits this long for its id, then goes as a new message
# (its courier died before recording it, and the claim was given back and sent again)
EDIT_HELD = 60.0


def enqueue(db: sqlite3.Connection, messages: Iterable[Outgoing], now: float) -> int:
    """Queue messages; (key, chat) already queued are skipped. Returns how many were new."""
    return enqueue_reports(db, messages, now)[0]


def _insert(db: sqlite3.Connection, m: Outgoing, now: float) -> int | None:
    """Queue one message; its id, or None when its (key, chat) was queued before."""
    edit_of, due_at = m.edit_of, now
    if m.edit_after is not None and edit_of is None:
        # an edit of a message being sent: held until `outbox_sent` learns its id. The
        # UPDATE locks that row, so the two transactions never miss each other.
        sending = one(
            db,
            "UPDATE outbox SET attempts = attempts WHERE id = ? RETURNING message_id",
            (m.edit_after,),
        )
        edit_of = None if sending is None else sending["message_id"]
        due_at = now if edit_of is not None else now + EDIT_HELD
    made = one(
        db,
        "INSERT INTO outbox (key, chat_id, lang, text, task_id, template, "
        "markup, document, incident_id, created_at, due_at, lane, edit_of, photo, edit_after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        (
            m.key,
            m.chat_id,
            m.lang,
            m.text,
            m.task_id,
            m.template,
            m.markup,
            m.document,
            m.incident_id,
            now,
            due_at,
            lane_of(m),
            edit_of,
            m.photo,
            m.edit_after,
        ),
    )
    return None if made is None else int(made["id"])


def claim_outbox(db: sqlite3.Connection, ids: Iterable[int], now: float) -> list[int]:
    """Claim waiting messages for sending, in the order given; returns those claimed.

    A message already claimed, sent or failed is skipped, and so is one whose chat has
    an older message still waiting in its lane or a lane before it: it goes after that
    one, by the courier. (A reply does not wait for a bulk notice to the same person.)
    """
    claimed = []
    for message_id in ids:
        if db.execute(
            "UPDATE outbox SET sent_at = ?1 WHERE id = ?2 AND sent_at IS NULL "
            "AND failed_at IS NULL AND NOT EXISTS (SELECT 1 FROM outbox AS older "
            "WHERE older.chat_id = outbox.chat_id AND older.id < outbox.id "
            "AND older.lane <= outbox.lane "
            "AND older.sent_at IS NULL AND older.failed_at IS NULL)",
            (now, message_id),
        ).rowcount:
            claimed.append(message_id)
    return claimed


def outbox_release(db: sqlite3.Connection, ids: Iterable[int]) -> None:
    """Give back claims not used: those messages were not handed to Telegram."""
    db.executemany(
        "UPDATE outbox SET sent_at = NULL WHERE id = ? AND message_id IS NULL "
        "AND failed_at IS NULL",
        [(i,) for i in ids],
    )


def queue_and_claim(
    db: sqlite3.Connection, messages: Iterable[Outgoing], now: float
) -> list[OutboxItem]:
    """Queue messages and claim at once those that may go out now (see `claim_outbox`)."""
    new = [(i, m) for m in messages if (i := _insert(db, m, now)) is not None]
    claimed = set(claim_outbox(db, [i for i, _ in new], now))
    return [OutboxItem(i, m, 0, lane_of(m)) for i, m in new if i in claimed]


def enqueue_reports(
    db: sqlite3.Connection, messages: Iterable[Outgoing], now: float
) -> tuple[int, int]:
    """Queue messages, each new one with `supersedes` dropping the older messages still
    waiting for its chat whose keys begin so (in this same transaction, so a courier never
    sends one of them after the newer one is queued). Returns (queued, dropped)."""
    queued = dropped = 0
    for m in messages:
        new = _insert(db, m, now)
        queued += new is not None
        if new is not None and m.supersedes:
            dropped += db.execute(
                "UPDATE outbox SET failed_at = ?1, superseded_by = ?2, "
                "error = 'superseded by a newer report' "
                "WHERE chat_id = ?3 AND id < ?2 AND sent_at IS NULL AND failed_at IS NULL "
                "AND substr(key, 1, length(?4)) = ?4",
                (now, new, m.chat_id, m.supersedes),
            ).rowcount
    return queued, dropped


def drop_escalations(db: sqlite3.Connection, task_id: int, now: float) -> int:
    """A task accepted, done or cancelled: its escalations still waiting are not sent."""
    prefix = f"escalate:{task_id}:"
    return db.execute(
        "UPDATE outbox SET failed_at = ?, superseded_by = 0, "
        "error = 'dropped: the task no longer waits' "
        "WHERE sent_at IS NULL AND failed_at IS NULL AND substr(key, 1, length(?)) = ?",
        (now, prefix, prefix),
    ).rowcount


def sent_copies(
    db: sqlite3.Connection, key: str, now: float, why: str, sending: bool = False
) -> tuple[SentCopy, ...]:
    """A question queued under `key` is decided or withdrawn: its copies not yet sent
    never will be (`why`), and those sent are returned, to be edited where they are; with
    `sending`, also those being sent (no message id yet: edited once it is known)."""
    db.execute(
        "UPDATE outbox SET failed_at = ?, error = ? "
        "WHERE key = ? AND sent_at IS NULL AND failed_at IS NULL",
        (now, why, key),
    )
    rows = every(
        db,
        "SELECT id, chat_id, lang, message_id FROM outbox WHERE key = ? "
        "AND (message_id IS NOT NULL OR (? = 1 AND sent_at IS NOT NULL AND failed_at IS NULL)) "
        "ORDER BY id",
        (key, int(sending)),
    )
    return tuple(SentCopy(r["chat_id"], r["lang"], r["message_id"], r["id"]) for r in rows)


def outbox_superseded(db: sqlite3.Connection) -> int:
    """Reports dropped unsent because a newer one was queued for the same chat (metrics)."""
    row = one(db, "SELECT COUNT(*) AS n FROM outbox WHERE superseded_by > 0")
    return int(row["n"]) if row else 0


def announced(db: sqlite3.Connection, task_id: int, chat_id: int, message_id: int) -> None:
    """A message about a task went out: it is edited when the task changes."""
    db.execute(
        "INSERT INTO announcements (task_id, chat_id, message_id) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (task_id, chat_id, message_id),
    )


def outbox_sent(db: sqlite3.Connection, item: OutboxItem, message_id: int, now: float) -> None:
    """Record a delivery; a task's message becomes one of its announcements.

    A message dropped for a newer one while the courier was sending it went out after
    all: it is recorded as sent, not as dropped.
    """
    db.execute(
        "UPDATE outbox SET sent_at = ?, message_id = ?, attempts = attempts + 1, "
        "failed_at = CASE WHEN superseded_by IS NULL THEN failed_at END, "
        "error = CASE WHEN superseded_by IS NULL THEN error END, superseded_by = NULL "
        "WHERE id = ?",
        (now, message_id, item.id),
    )
    db.execute(  # edits held for this message's id (see `_insert`) may go now
        "UPDATE outbox SET edit_of = ?, due_at = ? "
        "WHERE edit_after = ? AND edit_of IS NULL AND sent_at IS NULL AND failed_at IS NULL",
        (message_id, now, item.id),
    )
    if item.message.task_id is not None:
        announced(db, item.message.task_id, item.message.chat_id, message_id)


def outbox_retry(db: sqlite3.Connection, item: OutboxItem, due_at: float, error: str) -> None:
    """Try again at `due_at` (the claim is given back)."""
    db.execute(
        "UPDATE outbox SET sent_at = NULL, due_at = ?, attempts = attempts + 1, error = ? "
        "WHERE id = ?",
        (due_at, error[:500], item.id),
    )


def outbox_failed(db: sqlite3.Connection, item: OutboxItem, now: float, error: str) -> None:
    """Never to be sent: kept, marked failed, with the reason."""
    db.execute(
        "UPDATE outbox SET sent_at = NULL, failed_at = ?, attempts = attempts + 1, error = ? "
        "WHERE id = ?",
        (now, error[:500], item.id),
    )
    db.execute(  # nothing to edit: the edits held for it never go (see `_insert`)
        "UPDATE outbox SET failed_at = ?, error = 'its message was never sent' "
        "WHERE edit_after = ? AND edit_of IS NULL AND sent_at IS NULL AND failed_at IS NULL",
        (now, item.id),
    )


def queued(db: sqlite3.Connection, key: str) -> bool:
    """Whether anything was ever queued under this key (sent or not)."""
    return one(db, "SELECT 1 FROM outbox WHERE key = ? LIMIT 1", (key,)) is not None


def due_outbox(db: sqlite3.Connection, now: float, limit: int) -> list[OutboxItem]:
    """Messages waiting to be sent and due by now, by lane (replies, announcements, then
    notices), oldest first in each; none of a chat whose older message in the same or an
    earlier lane waits for a retry (each chat gets a lane's messages in order)."""
    rows = every(
        db,
        "SELECT id, key, chat_id, lang, text, task_id, template, markup, document, "
        "incident_id, lane, edit_of, photo, edit_after, attempts "
        "FROM outbox AS o "
        "WHERE sent_at IS NULL AND failed_at IS NULL AND due_at <= ? "
        "AND NOT EXISTS (SELECT 1 FROM outbox AS older WHERE older.chat_id = o.chat_id "
        "AND older.sent_at IS NULL AND older.failed_at IS NULL AND older.id < o.id "
        "AND older.lane <= o.lane AND older.due_at > ?) "
        "ORDER BY lane, id LIMIT ?",
        (now, now, limit),
    )
    # `supersedes` only instructs the queuing, and `lane` is the item's: not kept as such
    return [
        OutboxItem(
            r["id"], from_row(Outgoing, r, supersedes=None, lane=None), r["attempts"], r["lane"]
        )
        for r in rows
    ]


def outbox_counts(db: sqlite3.Connection) -> tuple[int, int, int]:
    """(waiting, sent, failed), for the operator and the tests."""
    row = one(
        db,
        # (COUNT of CASE, not SUM of a truth value: PostgreSQL does not add up booleans)
        "SELECT COUNT(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 END) AS waiting, "
        "COUNT(CASE WHEN sent_at IS NOT NULL THEN 1 END) AS sent, "
        "COUNT(CASE WHEN failed_at IS NOT NULL THEN 1 END) AS failed FROM outbox",
    )
    assert row is not None
    return int(row["waiting"]), int(row["sent"]), int(row["failed"])


class OutboxQueries(Engine):
    """`snowbot.domain.delivery_stores.OutboxStore` on SQLite."""

    enqueue = writes(enqueue)
    queued = reads(queued)
    due_outbox = reads(due_outbox)
    outbox_sent = writes(outbox_sent)
    outbox_retry = writes(outbox_retry)
    outbox_failed = writes(outbox_failed)
    outbox_counts = reads(outbox_counts)
    enqueue_reports = writes(enqueue_reports)
    outbox_superseded = reads(outbox_superseded)
    claim_outbox = writes(claim_outbox)
    outbox_release = writes(outbox_release)
