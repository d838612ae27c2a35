"""People and their roles."""

from __future__ import annotations

import sqlite3

from snowbot.domain.model import User
from snowbot.domain.roles import Role
from storage.engine import Engine, every, from_row, one, reads, writes

_COLUMNS = "id, name, username, language, role, member, district_id, registered"


# Rows an older version (or an edited backup) wrote as 'coordinator': coordinators come from
# the config only, so such a row reads as what a database may give, a dispatcher.
_STORED = {
    Role.GUEST: ("cadre",),
    Role.CADRE: ("cadre",),
    Role.DISPATCHER: ("dispatcher", "coordinator"),
    Role.COORDINATOR: (),
}


def role_from(row: sqlite3.Row) -> Role:
    """A guest is stored as a cadre who is not a member (docs/security.md)."""
    role = min(Role[row["role"].upper()], Role.DISPATCHER)
    return Role.GUEST if role == Role.CADRE and not row["member"] else role


def user_from(row: sqlite3.Row) -> User:
    return from_row(User, row, role=role_from(row), registered=bool(row["registered"]))


def _user(db: sqlite3.Connection, user_id: int) -> User:
    user = get_user(db, user_id)
    assert user is not None
    return user


def register_user(
    db: sqlite3.Connection,
    user_id: int,
    name: str,
    username: str | None,
    language: str | None,
    now: float,
    member: bool = False,
) -> User:
    """Create or refresh a user who wrote to the bot; a language chosen with /lang stays.

    `member`: enrolment is open, so whoever writes is a cadre; else a new user is a guest.
    Nobody stops being a member here.
    """
    db.execute(
        """INSERT INTO users (id, name, username, language, registered, member, created_at)
           VALUES (?, ?, ?, ?, 1, ?, ?)
           ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, username = excluded.username, registered = 1,
             member = CASE WHEN excluded.member = 1 THEN 1 ELSE users.member END,
             language = CASE WHEN users.lang_chosen = 1 THEN users.language
                             ELSE excluded.language END""",
        (user_id, name, username, language, int(member), now),
    )
    return _user(db, user_id)


def set_language(db: sqlite3.Connection, user_id: int, language: str) -> None:
    """A language chosen with /lang: it stays whatever Telegram says later."""
    db.execute("UPDATE users SET language = ?, lang_chosen = 1 WHERE id = ?", (language, user_id))


def set_role(
    db: sqlite3.Connection, user_id: int, role: Role, district_id: int | None, now: float
) -> User:
    """Give a role, creating a placeholder for a user who has never written.

    Any role but guest makes a member; guest is a cadre who is not one.
    """
    stored = Role.CADRE if role == Role.GUEST else role
    db.execute(
        """INSERT INTO users (id, role, member, district_id, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET role = excluded.role, member = excluded.member,
                                          district_id = excluded.district_id""",
        (user_id, stored.key, int(role != Role.GUEST), district_id, now),
    )
    return _user(db, user_id)


def get_user(db: sqlite3.Connection, user_id: int) -> User | None:
    row = one(db, f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return user_from(row) if row else None


def users_with_role(db: sqlite3.Connection, role: Role) -> list[User]:
    """Whom the database gives `role` (never a coordinator: the config names them)."""
    stored = _STORED[role]
    if not stored:
        return []
    marks = ", ".join("?" for _ in stored)
    rows = every(db, f"SELECT {_COLUMNS} FROM users WHERE role IN ({marks}) ORDER BY id", stored)
    return [user for user in map(user_from, rows) if user.role == role]


class PeopleQueries(Engine):
    """`snowbot.domain.stores.PeopleStore` on SQLite."""

    register_user = writes(register_user)
    get_user = reads(get_user)
    set_language = writes(set_language)
    set_role = writes(set_role)
    users_with_role = reads(users_with_role)
