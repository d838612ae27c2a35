"""`snowbot copy-db FROM TO`: a whole database from one engine to the other (or the same).

Both ends are brought to the latest schema first (by `open_store`), so their tables and
columns are the same; the rows then go over table by table, parents before children
(the foreign keys hold at every step), in one transaction on the target, read from one
snapshot of the source. The tables, their columns and their order are read from the
schema the migrations build, in an in-memory SQLite database: nothing here lists them by
hand.

The source is checked first as `restore` checks a backup (exact schema, no trigger, view
or rule), and what it had waiting is settled on the target in the copy's transaction
(`storage.backup.SETTLED_ON_MOVE`): a planted update is never handled, an unsent message
never sent, a pending closing report never queued.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.backup import SETTLED_ON_MOVE, BackupError, check
from storage.migrations import MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.postgres import is_postgres
from storage.postgres.connection import PgConnection
from storage.postgres.schema_check import SchemaError, check_postgres

BATCH = 5_000


class CopyError(Exception):
    """A copy refused before anything was written (one line)."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    identity: str | None  # the column that numbers itself (PostgreSQL's sequence follows it)


def tables() -> list[Table]:
    """Every table of the latest schema, each after the tables it refers to."""
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.execute(SCHEMA_VERSION_TABLE)
        for version in sorted(MIGRATIONS):
            db.executescript(MIGRATIONS[version])
        names = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version' ORDER BY name"
            )
        ]
        refers = {
            name: {row[2] for row in db.execute(f"PRAGMA foreign_key_list({name})")} - {name}
            for name in names
        }
        info = {name: db.execute(f"PRAGMA table_info({name})").fetchall() for name in names}
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and refers[n] <= set(ordered)]
        if not ready:
            raise RuntimeError(f"a cycle of references among {set(names) - set(ordered)}")
        ordered.extend(ready)
    out = []
    for name in ordered:
        columns = info[name]
        keys = [c for c in columns if c[5]]
        identity = keys[0][1] if len(keys) == 1 and keys[0][2].upper() == "INTEGER" else None
        out.append(Table(name, tuple(c[1] for c in columns), identity))
    return out


@contextlib.contextmanager
def connected(address: Path | str) -> Iterator[Any]:
    """A plain connection (`execute` with `?` parameters) to either engine, in autocommit."""
    if isinstance(address, str) and is_postgres(address):
        db = PgConnection.open(address)
        try:
            yield db
        finally:
            db.close()
        return
    with contextlib.closing(sqlite3.connect(address, isolation_level=None)) as lite:
        lite.execute("PRAGMA foreign_keys = ON")
        yield lite


def rows_in(address: Path | str) -> dict[str, int]:
    """How many rows each snowbot table holds (tables it does not have yet count 0)."""
    with connected(address) as db:
        if isinstance(db, sqlite3.Connection):
            present = {
                n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        else:
            present = {
                r[0]
                for r in db.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                ).fetchall()
            }
        return {
            t.name: int(db.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0])
            for t in tables()
            if t.name in present
        }


def check_source(source: Path | str, name: str) -> int:
    """The source's schema version, or CopyError (one line) if it is not exactly the schema
    snowbot makes at that version, or holds a trigger, view or rule."""
    try:
        if isinstance(source, Path):
            return check(source)
        with connected(source) as db:
            return check_postgres(db, name)
    except (BackupError, SchemaError) as exc:
        raise CopyError(str(exc)) from None


def copy_rows(source: Path | str, target: Path | str) -> dict[str, int]:
    """Copy every row of `source` into the empty `target` (both at the latest schema), in
    one transaction on the target, then settle what the source had waiting. Returns the
    rows copied per table."""
    copied: dict[str, int] = {}
    with connected(source) as src, connected(target) as dst:
        # one snapshot of the source, should anything still write to it
        src.execute("BEGIN" if isinstance(src, sqlite3.Connection) else _SNAPSHOT)
        dst.execute("BEGIN")
        try:
            for table in tables():
                columns = ", ".join(table.columns)
                marks = ", ".join("?" for _ in table.columns)
                insert = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"
                cursor = src.execute(f"SELECT {columns} FROM {table.name}")
                count = 0
                while batch := cursor.fetchmany(BATCH):
                    dst.executemany(insert, [tuple(row) for row in batch])
                    count += len(batch)
                copied[table.name] = count
                if table.identity and not isinstance(dst, sqlite3.Connection):
                    # the sequence goes on after the highest copied id, as SQLite's rowid
                    # does; negative ids (Telegram's groups) never number anything
                    dst.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                        f"'{table.identity}'), COALESCE(MAX({table.identity}) "
                        f"FILTER (WHERE {table.identity} > 0), 0) + 1, false) FROM {table.name}"
                    )
            for statement in SETTLED_ON_MOVE:
                dst.execute(statement)
            dst.execute("COMMIT")
        except BaseException:
            dst.execute("ROLLBACK")
            raise
        finally:
            src.execute("ROLLBACK")
    return copied


_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


def empty_rows(target: Path | str) -> None:
    """Take every row out of `target` again, children first, in one transaction: a copy
    found wrong after it committed leaves the target as empty as it found it."""
    with connected(target) as db:
        db.execute("BEGIN")
        try:
            for table in reversed(tables()):
                db.execute(f"DELETE FROM {table.name}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
