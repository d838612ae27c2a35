"""Invitations: deep-link codes that make a guest a cadre, each use taken in one statement."""

from __future__ import annotations

import sqlite3

from snowbot.domain.model import Invitation, Joined, JoinOutcome, User
from snowbot.domain.roles import Role
from storage.engine import Engine, every, from_row, one, reads, writes
from storage.queries.people import set_role

COLUMNS = "code, district_id, created_by, created_at, expires_at, uses, uses_left, ended_at"


def invitation_from(row: sqlite3.Row) -> Invitation:
    return from_row(Invitation, row)


def create_invitation(
    db: sqlite3.Connection,
    code: str,
    district_id: int | None,
    created_by: int,
    now: float,
    expires_at: float,
    uses: int,
) -> Invitation:
    row = one(
        db,
        "INSERT INTO invitations (code, district_id, created_by, created_at, expires_at, "
        f"uses, uses_left) VALUES (?, ?, ?, ?, ?, ?, ?6) RETURNING {COLUMNS}",
        (code, district_id, created_by, now, expires_at, uses),
    )
    assert row is not None
    return invitation_from(row)


def join(db: sqlite3.Connection, user_id: int, code: str, now: float) -> Joined:
    """A guest starts the bot with a code: one use is taken and they become a cadre of its
    district, in one transaction. A member, or a code that is unknown, ended, expired or
    used up, changes nothing."""
    user = one(db, "SELECT role, member FROM users WHERE id = ?", (user_id,))
    if user is not None and user["member"]:
        found = one(db, f"SELECT {COLUMNS} FROM invitations WHERE code = ?", (code,))
        return Joined(JoinOutcome.MEMBER, invitation_from(found) if found else None)
    # the use is taken only while one is left: twenty presses on five uses enrol five
    taken = one(
        db,
        "UPDATE invitations SET uses_left = uses_left - 1 WHERE code = ? AND uses_left > 0 "
        f"AND expires_at > ? AND ended_at IS NULL RETURNING {COLUMNS}",
        (code, now),
    )
    if taken is None:
        found = one(db, f"SELECT {COLUMNS} FROM invitations WHERE code = ?", (code,))
        if found is None or found["ended_at"] is not None:
            return Joined(JoinOutcome.UNKNOWN, None)
        if found["expires_at"] <= now:
            return Joined(JoinOutcome.EXPIRED, invitation_from(found))
        return Joined(JoinOutcome.USED_UP, invitation_from(found))
    db.execute(
        "INSERT INTO users (id, role, member, district_id, invited_by, registered, created_at) "
        "VALUES (?1, 'cadre', 1, ?2, ?3, 1, ?4) ON CONFLICT (id) DO UPDATE SET "
        "role = 'cadre', member = 1, district_id = ?2, invited_by = ?3",
        (user_id, taken["district_id"], code, now),
    )
    return Joined(JoinOutcome.JOINED, invitation_from(taken))


def live_invitations(
    db: sqlite3.Connection, now: float, created_by: int | None = None
) -> list[Invitation]:
    """Invitations still usable, newest first; only `created_by`'s when given."""
    rows = every(
        db,
        f"SELECT {COLUMNS} FROM invitations WHERE ended_at IS NULL AND expires_at > ? "
        "AND uses_left > 0 AND (?2 IS NULL OR created_by = ?2) ORDER BY created_at DESC",
        (now, created_by),
    )
    return [invitation_from(r) for r in rows]


def end_invitation(
    db: sqlite3.Connection, code: str, now: float, created_by: int | None = None
) -> bool:
    """/uninvite: end a live invitation (only `created_by`'s when given)."""
    cur = db.execute(
        "UPDATE invitations SET ended_at = ? WHERE code = ? AND ended_at IS NULL "
        "AND expires_at > ?1 AND uses_left > 0 AND (?3 IS NULL OR created_by = ?3)",
        (now, code, created_by),
    )
    return cur.rowcount > 0


def revoke_role(db: sqlite3.Connection, user_id: int, now: float) -> tuple[User, int]:
    """/revoke: the person is a guest again and their live invitations end, in one
    transaction, so no link of theirs enrols anyone afterwards. Returns the person and how
    many invitations ended."""
    user = set_role(db, user_id, Role.GUEST, None, now)
    ended = db.execute(
        "UPDATE invitations SET ended_at = ?1 WHERE created_by = ?2 AND ended_at IS NULL "
        "AND expires_at > ?1 AND uses_left > 0",
        (now, user_id),
    )
    return user, ended.rowcount


class InvitationsQueries(Engine):
    """`snowbot.domain.stores.InvitationStore` on SQLite."""

    create_invitation = writes(create_invitation)
    join = writes(join)
    live_invitations = reads(live_invitations)
    end_invitation = writes(end_invitation)
    revoke_role = writes(revoke_role)
