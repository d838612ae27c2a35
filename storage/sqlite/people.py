"""People and their roles."""

from __future__ import annotations

import sqlite3

from snowbot.model import User
from snowbot.roles import Role
from storage.sqlite.engine import Engine, every, from_row, one, reads, writes

_COLUMNS = "id, name, username, language, role, district_id, registered"


def user_from(row: sqlite3.Row) -> User:
    return from_row(User, row, role=Role[row["role"].upper()], registered=bool(row["registered"]))


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
) -> User:
    """Create or refresh a user who wrote to the bot; a language chosen with /lang stays."""
    db.execute(
        """INSERT INTO users (id, name, username, language, registered, created_at)
           VALUES (?, ?, ?, ?, 1, ?)
           ON CONFLICT (id) DO UPDATE SET
             name = excluded.name, username = excluded.username, registered = 1,
             language = CASE WHEN users.lang_chosen THEN users.language
                             ELSE excluded.language END""",
        (user_id, name, username, language, now),
    )
    return _user(db, user_id)


def set_language(db: sqlite3.Connection, user_id: int, language: str) -> None:
    """A language chosen with /lang: it stays whatever Telegram says later."""
    db.execute("UPDATE users SET language = ?, lang_chosen = 1 WHERE id = ?", (language, user_id))


def set_role(
    db: sqlite3.Connection, user_id: int, role: Role, district_id: int | None, now: float
) -> User:
    """Give a role, creating a placeholder for a user who has never written."""
    db.execute(
        """INSERT INTO users (id, role, district_id, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET role = excluded.role,
                                          district_id = excluded.district_id""",
        (user_id, role.key, district_id, now),
    )
    return _user(db, user_id)


def get_user(db: sqlite3.Connection, user_id: int) -> User | None:
    row = one(db, f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return user_from(row) if row else None


def users_with_role(db: sqlite3.Connection, role: Role) -> list[User]:
    rows = every(db, f"SELECT {_COLUMNS} FROM users WHERE role = ? ORDER BY id", (role.key,))
    return [user_from(r) for r in rows]


class SqlitePeople(Engine):
    """`snowbot.stores.PeopleStore` on SQLite."""

    register_user = writes(register_user)
    get_user = reads(get_user)
    set_language = writes(set_language)
    set_role = writes(set_role)
    users_with_role = reads(users_with_role)
