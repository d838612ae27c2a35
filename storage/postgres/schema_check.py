"""A PostgreSQL database checked as `restore` checks a SQLite backup (storage.backup.check):
its schema must be exactly the one this snowbot's migrations make at its version, with no
trigger, view or rule that could turn one copied row into something else.

The reference is built in the same database, in a schema of its own inside a transaction
that is rolled back: PostgreSQL's DDL is transactional, so nothing of it stays, and both
sides are read from the same server's catalogs (types, defaults and index definitions as
that server writes them).
"""

from __future__ import annotations

import secrets
from typing import Any

from storage.backup import schema_difference
from storage.migrations import LATEST, statements
from storage.migrations.postgres import MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.postgres.connection import PgConnection

_TABLES = (
    "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
)
_COLUMNS = (
    "SELECT table_name, column_name, data_type, is_nullable, COALESCE(column_default, ''), "
    "is_identity FROM information_schema.columns WHERE table_schema = ?"
)
_INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = ?"
_CONSTRAINTS = (
    "SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid) FROM pg_constraint co "
    "JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = co.connamespace "
    "WHERE n.nspname = ?"
)
_TRIGGERS = (
    "SELECT c.relname || '.' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = ?"
)
_RULES = "SELECT tablename || '.' || rulename FROM pg_rules WHERE schemaname = ?"

Catalog = dict[tuple[str, str], str]  # as storage.backup's Schema


class SchemaError(Exception):
    """Not a database snowbot may copy from; the message says why, in one line."""


def check_postgres(db: PgConnection, name: str) -> int:
    """The schema version of the database `db` is connected to (in autocommit), named
    `name` in messages; SchemaError unless its schema is exactly snowbot's at that version."""
    (schema,) = db.execute("SELECT current_schema()").fetchone() or (None,)
    if schema is None or _version_table_missing(db, schema):
        raise SchemaError(f"{name}: not a snowbot database (no schema_version)")
    row = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    version = int(row[0]) if row is not None else 0
    if not 1 <= version <= LATEST:
        raise SchemaError(
            f"{name}: schema version {version}; this snowbot reads versions 1 to {LATEST}"
        )
    events = [r[0] for r in db.execute("SELECT evtname FROM pg_event_trigger").fetchall()]
    if events:
        raise SchemaError(f"{name}: has event trigger {', '.join(sorted(events)[:3])}; refused")
    found = _catalog(db, schema)
    reference = f"snowbot_reference_{secrets.token_hex(6)}"
    db.script("BEGIN")
    try:
        db.script(f"CREATE SCHEMA {reference}")
        db.script(f"SET LOCAL search_path TO {reference}")
        db.script(SCHEMA_VERSION_TABLE)
        for number in sorted(n for n in MIGRATIONS if n <= version):
            for statement in statements(MIGRATIONS[number]):
                db.script(statement)
        wanted = _catalog(db, reference)
    finally:
        db.script("ROLLBACK")
    difference = schema_difference(found, wanted)
    if difference:
        raise SchemaError(
            f"{name}: not the schema snowbot makes at version {version} ({difference}); refused"
        )
    return version


def _version_table_missing(db: PgConnection, schema: str) -> bool:
    row = db.execute(
        "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ? AND c.relname = 'schema_version' AND c.relkind = 'r'",
        (schema,),
    ).fetchone()
    return row is None or int(row[0]) == 0


def _catalog(db: PgConnection, schema: str) -> Catalog:
    """(kind, name) -> its definition, for every object of `schema` a copy could meet,
    with the schema's own name taken out of the definitions."""

    def rows(sql: str) -> list[Any]:
        return list(db.execute(sql, (schema,)).fetchall())

    def plain(text: str) -> str:
        return " ".join(str(text).replace(f"{schema}.", "").split())

    out: Catalog = {}
    for relname, kind in rows(_TABLES):
        out[("table" if kind in ("r", "p") else "view", relname)] = kind
    for table, column, *definition in rows(_COLUMNS):
        out[("column", f"{table}.{column}")] = plain(" ".join(map(str, definition)))
    for index, definition in rows(_INDEXES):
        out[("index", index)] = plain(definition)
    for table, constraint, definition in rows(_CONSTRAINTS):
        out[("constraint", f"{table}.{constraint}")] = plain(definition)
    for (trigger,) in rows(_TRIGGERS):
        out[("trigger", trigger)] = ""
    for (rule,) in rows(_RULES):
        out[("rule", rule)] = ""
    return out
