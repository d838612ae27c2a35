"""The CLI's database commands, beside the composition root: `snowbot backup`, `restore`
and `copy-db` (docs/operators.md "Command line"). Like `snowbot.app.wiring`, this module may import
`storage` (the import contracts in pyproject.toml name it); the rest of the domain
sees storage only through `snowbot.domain.stores`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from snowbot.app.wiring import open_service
from snowbot.settings.config import Config
from snowbot.settings.errors import SnowbotError
from snowbot.settings.redact import hide_password
from storage import open_store


def backup_database(config: Config, target: Path) -> int:
    """A consistent copy of the database while the bot runs; returns its size in bytes."""
    from storage.backup import BackupError, backup

    _refuse_on_postgres(config, "pg_dump --format=custom --file=FILE")
    try:
        return backup(config.database, target)
    except BackupError as exc:
        raise SnowbotError(str(exc)) from None


async def restore_database(config: Config, source: Path) -> Path | None:
    """Replace the database with a checked backup; returns where the old one is kept."""
    from storage.backup import BackupError, restore

    _refuse_on_postgres(config, "pg_restore --clean --dbname=URL FILE")
    try:
        return await restore(source, config.database)
    except BackupError as exc:
        raise SnowbotError(str(exc)) from None


def _refuse_on_postgres(config: Config, instead: str) -> None:
    """`snowbot backup`/`restore` copy a SQLite file; PostgreSQL has its own tools."""
    if config.database_url:
        raise SnowbotError(
            f"{config.database_name}: a PostgreSQL database; use PostgreSQL's own tool: "
            f"{instead} (docs/operators.md, Running on PostgreSQL with a standby)"
        )


async def copy_database(config: Config, source: str, target: str) -> str:
    """`snowbot copy-db FROM TO`: every row of FROM into the empty TO, on either engine, then
    both tallies side by side. FROM is checked as `restore` checks a backup; TO is left
    with nothing waiting (no update to handle, message to send or closing report to
    queue), and empty again after any failure. Returns what to print; refusals are
    one-line SnowbotErrors."""
    from storage.copy import CopyError, check_source, copy_rows, empty_rows, rows_in

    src, dst = _address(source), _address(target)
    src_name, dst_name = hide_password(source), hide_password(target)
    if isinstance(src, Path) and not src.is_file():
        raise SnowbotError(f"{src_name}: no database here to copy from")
    if src == dst:
        raise SnowbotError(f"{dst_name}: FROM and TO are the same database")
    made_here = isinstance(dst, Path) and not dst.exists()
    written = False  # rows may be in TO: a failure takes them out again
    try:
        filled = {t: n for t, n in (await asyncio.to_thread(rows_in, dst)).items() if n}
        if filled:
            table, n = next(iter(filled.items()))
            raise SnowbotError(
                f"{dst_name}: not empty ({n} rows in {table}, {len(filled)} tables with rows); "
                "copy-db writes only into an empty database"
            )
        await asyncio.to_thread(check_source, src, src_name)
        for address in (src, dst):  # both at the latest schema: the same tables and columns
            store = await open_store(address)
            await store.close()
        written = True
        copied = await asyncio.to_thread(copy_rows, src, dst)
        tallies = [await _tally(config, address) for address in (src, dst)]
        if tallies[0] != tallies[1]:
            raise SnowbotError(f"{dst_name}: copied, but its tally differs from {src_name}'s")
    except BaseException as exc:
        await _undo(dst, made_here, written, empty_rows)
        if isinstance(exc, SnowbotError):
            raise
        if isinstance(exc, CopyError):
            raise SnowbotError(hide_password(str(exc))) from None
        if not isinstance(exc, Exception):
            raise
        # either driver's error, in one line and without a password
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SnowbotError(f"copy-db {src_name} -> {dst_name}: {hide_password(first)}") from None
    rows = sum(copied.values())
    shown = tallies[0]
    return (
        f"{src_name} -> {dst_name}: {rows:,} rows in {len(copied)} tables; both tallies agree "
        f"(incident {shown['incident']!r}, {shown['person_times']} person-times, "
        f"{shown['streets']['served']} of {shown['streets']['total']} streets served)"
    )


async def _tally(config: Config, address: Path | str) -> dict[str, Any]:
    service = await open_service(_on(config, address))
    try:
        return (await service.tally()).as_json()
    finally:
        await service.close()


async def _undo(
    target: Path | str, made_here: bool, written: bool, empty_rows: Callable[[Path | str], None]
) -> None:
    """Leave the target as copy-db found it: a file it made is removed, rows it may have
    written are taken out (nothing to undo before the copy began)."""
    if isinstance(target, Path) and made_here:
        for leftover in (target, *(target.with_name(target.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    elif written:
        with contextlib.suppress(Exception):  # the copy's own error is the one to tell
            await asyncio.to_thread(empty_rows, target)


def _address(text: str) -> Path | str:
    from storage import is_postgres

    return text if is_postgres(text) else Path(text).resolve()


def _on(config: Config, address: Path | str) -> Config:
    if isinstance(address, Path):
        return replace(config, database=address, database_url="")
    return replace(config, database_url=address)
