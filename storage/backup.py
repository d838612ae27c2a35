"""Copies of the database: a consistent backup while the bot runs, and a checked restore.

Both use SQLite's online backup API, so a copy is never half a transaction, and
the bot's writes go on while it is taken.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from storage.migrations import LATEST, MIGRATIONS, SCHEMA_VERSION_TABLE
from storage.sqlite import open_store

BUSY_TIMEOUT_S = 15.0
_HEADER = b"SQLite format 3\x00"
# Tables every snowbot database has had since its first version.
_REQUIRED = {"schema_version", "incidents", "users", "districts", "streets", "shifts", "tasks"}


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, for the operator."""


def backup(database: Path, target: Path) -> int:
    """Copy the live database to `target` (which must not exist); returns its size in bytes."""
    if not database.exists():
        raise BackupError(f"{database}: no database to back up")
    if os.path.lexists(target):  # a planted symlink counts as there: it is not followed
        raise BackupError(f"{target}: already exists; choose another name")
    try:
        # a new file of our own, readable by its owner only: it holds names and positions
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
    except OSError as exc:
        raise BackupError(f"{target}: cannot write there ({exc.strerror})") from None
    partial = Path(name)
    try:
        source = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            finally:
                copy.close()
        finally:
            source.close()
        os.replace(partial, target)  # the backup appears whole, or not at all
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{target}: backup failed ({exc})") from None
    return target.stat().st_size


def check(candidate: Path) -> int:
    """The schema version of a snowbot database file; BackupError if it is not one we can use.

    Its schema must be exactly the one this snowbot's migrations make at that version:
    every table, column and index, and nothing else (no trigger or view could then turn
    a check-in into a thousand, or a stranger into a coordinator).
    """
    try:
        with candidate.open("rb") as f:
            header = f.read(len(_HEADER))
    except OSError as exc:
        raise BackupError(f"{candidate}: cannot be read ({exc.strerror})") from None
    if header != _HEADER:
        raise BackupError(f"{candidate}: not an SQLite database")
    try:
        db = sqlite3.connect(f"{candidate.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = _REQUIRED - tables
            if missing:
                raise BackupError(
                    f"{candidate}: not a snowbot database (no {', '.join(sorted(missing))})"
                )
            version = int(
                db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            )
            if not 1 <= version <= LATEST:
                raise BackupError(
                    f"{candidate}: schema version {version}; "
                    f"this snowbot reads versions 1 to {LATEST}"
                )
            difference = schema_difference(_schema(db), _schema(_reference(version)))
            if difference:
                raise BackupError(
                    f"{candidate}: not the schema snowbot makes at version {version} "
                    f"({difference}); refused"
                )
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{candidate}: unreadable database ({exc})") from None
    if verdict != "ok":
        raise BackupError(f"{candidate}: damaged database ({verdict})")
    return version


Schema = dict[tuple[str, str], str]


def _schema(db: sqlite3.Connection) -> Schema:
    """(type, name) -> its SQL with spacing evened out, for every object but SQLite's own."""
    rows = db.execute(
        "SELECT type, name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    )
    return {(kind, name): " ".join(sql.split()) for kind, name, sql in rows}


def _reference(version: int) -> sqlite3.Connection:
    """A new, empty database with this snowbot's schema at `version`."""
    db = sqlite3.connect(":memory:")
    db.execute(SCHEMA_VERSION_TABLE)
    for number in sorted(n for n in MIGRATIONS if n <= version):
        db.executescript(MIGRATIONS[number])
    return db


def schema_difference(found: Schema, wanted: Schema) -> str:
    extra = sorted(f"{kind} {name}" for kind, name in found.keys() - wanted.keys())
    if extra:
        return "has " + ", ".join(extra[:3])
    lacking = sorted(f"{kind} {name}" for kind, name in wanted.keys() - found.keys())
    if lacking:
        return "lacks " + ", ".join(lacking[:3])
    changed = sorted(
        f"{kind} {name}" for key in found if found[key] != wanted[key] for kind, name in [key]
    )
    return ("changes " + ", ".join(changed[:3])) if changed else ""


async def restore(source: Path, database: Path) -> Path | None:
    """Replace the database with a checked, migrated copy of `source`.

    The copy is made and brought up to this version's schema beside the database first;
    what it had waiting (updates not yet handled, messages not yet sent, updates seen)
    belongs to another moment and is cleared, so nothing of it is replayed or sent. Only
    then is the database being replaced kept beside it, and the copy put in its place.
    Returns where the old one is kept (None if there was none). Stop the bot first.
    """
    check(source)
    staged = _free_name(database, "restoring")
    try:
        _copy(source, staged)
        store = await open_store(staged)  # migrates; closes itself if it cannot
        await store.close()
        with contextlib.closing(sqlite3.connect(staged)) as db, db:
            for statement in SETTLED_ON_MOVE:
                db.execute(statement)
        with contextlib.closing(sqlite3.connect(staged)) as db:
            db.execute("PRAGMA journal_mode = DELETE")  # one self-contained file again
        kept = None
        if database.exists():
            kept = _free_name(database, f"before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
            backup(database, kept)
        _copy(staged, database)
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"{database}: restore failed ({exc}); nothing was replaced") from None
    finally:
        for leftover in (staged, *(staged.with_name(staged.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    return kept


# What a restored (or copied) database had waiting belongs to the moment it was copied:
# updates not handled, turns taken for them, the processes that were running and the floods
# they were bounding, messages not sent. What was sent stays, so
# the scheduler knows which reports went out and does not catch every day summary up
# again; a closing report owed then is not.
SETTLED_ON_MOVE = (
    "DELETE FROM inbox",
    "DELETE FROM seen_updates",
    "DELETE FROM stale_announcements",
    "DELETE FROM turns",
    "DELETE FROM processes",
    "DELETE FROM floods",
    "DELETE FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    "UPDATE closing_reports SET queued_at = 0 WHERE queued_at IS NULL",
)


def _copy(source: Path, target: Path) -> None:
    """Copy one SQLite database into another through SQLite (WAL and locks respected)."""
    with (
        contextlib.closing(
            sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        ) as src,
        contextlib.closing(sqlite3.connect(target, timeout=BUSY_TIMEOUT_S)) as dst,
    ):
        src.backup(dst)


def _free_name(database: Path, label: str) -> Path:
    """`<database>.<label>`, or with -2, -3 … when that is taken (two restores in a second)."""
    candidate = database.with_name(f"{database.name}.{label}")
    n = 1
    while candidate.exists() or candidate.with_name(candidate.name + ".partial").exists():
        n += 1
        candidate = database.with_name(f"{database.name}.{label}-{n}")
    return candidate


__all__ = ["SETTLED_ON_MOVE", "BackupError", "backup", "check", "restore", "schema_difference"]
