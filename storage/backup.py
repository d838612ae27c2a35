"""Copies of the database: a consistent backup while the bot runs, and a checked restore.

Both use SQLite's online backup API, so a copy is never half a transaction, and
the bot's writes go on while it is taken.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from storage.migrations import LATEST

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
    if target.exists():
        raise BackupError(f"{target}: already exists; choose another name")
    partial = target.with_name(target.name + ".partial")
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
    """The schema version of a snowbot database file; BackupError if it is not one we can use."""
    try:
        with candidate.open("rb") as f:
            header = f.read(len(_HEADER))
    except OSError as exc:
        raise BackupError(f"{candidate}: cannot be read ({exc.strerror})") from None
    if header != _HEADER:
        raise BackupError(f"{candidate}: not an SQLite database")
    try:
        db = sqlite3.connect(f"file:{candidate}?mode=ro", uri=True)
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
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{candidate}: unreadable database ({exc})") from None
    if verdict != "ok":
        raise BackupError(f"{candidate}: damaged database ({verdict})")
    if not 1 <= version <= LATEST:
        raise BackupError(
            f"{candidate}: schema version {version}; this snowbot reads versions 1 to {LATEST}"
        )
    return version


def restore(source: Path, database: Path) -> Path | None:
    """Replace the database with a checked copy of `source`.

    The database being replaced is kept beside it first; returns where (None if
    there was none). Stop the bot before restoring: it keeps some state in memory.
    """
    check(source)
    kept = None
    if database.exists():
        kept = _free_name(database, f"before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
        backup(database, kept)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            live = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S)
            try:
                src.backup(live)
            finally:
                live.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{database}: restore failed ({exc}); the old one is {kept}") from None
    return kept


def _free_name(database: Path, label: str) -> Path:
    """`<database>.<label>`, or with -2, -3 … when that is taken (two restores in a second)."""
    candidate = database.with_name(f"{database.name}.{label}")
    n = 1
    while candidate.exists() or candidate.with_name(candidate.name + ".partial").exists():
        n += 1
        candidate = database.with_name(f"{database.name}.{label}-{n}")
    return candidate


__all__ = ["BackupError", "backup", "check", "restore"]
