"""What the command line reads from the database: `snowbot tally`, `report` and `export`,
and opening the database for a command (refused in one line when it is not there)."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from snowbot.app.wiring import open_service
from snowbot.service import Snowbot
from snowbot.settings.config import Config
from snowbot.settings.errors import SnowbotError
from snowbot.settings.redact import hide_password
from snowbot.text.export_xlsx import xlsx_name


def check_database(config: Config, *, create: bool) -> Path | str:
    """The database file the config names, checked before anything opens it.

    A command that only reads (`tally`, `export`) never creates a database: an empty
    one made by a mistyped path would report zeros as if they were the storm's.
    """
    if config.database_url:
        return config.database_name
    path = config.database.resolve()
    hint = "check [storage] database" + (f" in {config.source}" if config.source else "")
    if path.is_dir():
        raise SnowbotError(f"{path}: is a folder, not a database file; {hint}")
    if not path.parent.is_dir():
        raise SnowbotError(f"{path}: the folder {path.parent} does not exist; {hint}")
    if not create and not path.exists():
        raise SnowbotError(
            f"{path}: no database here; {hint} (or give --config), "
            "or start the bot or import streets first"
        )
    return path


async def with_bot(
    config: Config, work: Callable[[Snowbot], Awaitable[int]], *, create: bool = True
) -> int:
    path = check_database(config, create=create)
    if not create:
        print(f"snowbot: reading {path}", file=sys.stderr)
    try:
        service = await open_service(config)
    except (sqlite3.Error, OSError) as exc:
        raise SnowbotError(f"{path}: cannot open the database ({exc})") from None
    except Exception as exc:  # the PostgreSQL driver's errors: one line, without a password
        if not config.database_url:
            raise
        reason = hide_password((str(exc).strip().splitlines() or [type(exc).__name__])[0])
        raise SnowbotError(f"{path}: cannot open the database ({reason})") from None
    try:
        return await work(service)
    finally:
        await service.close()


async def tally_command(args: argparse.Namespace, config: Config) -> int:
    async def work(bot: Snowbot) -> int:
        tally = await bot.tally()
        if args.json:
            from snowbot.domain.tally import tally_json_text

            print(tally_json_text(tally))
        else:
            from snowbot.text.render import render_tally
            from snowbot.text.texts import catalog

            print(render_tally(catalog(config.language), tally, tz=config.city.timezone))
        return 0

    return await with_bot(config, work, create=False)


async def report_command(args: argparse.Namespace, config: Config) -> int:
    from snowbot.text.closing import render_closing
    from snowbot.text.texts import catalog

    text = str(args.incident).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise SnowbotError(f"report --incident: {text[:30]!r} is not an incident number")
    wanted = int(text)

    async def work(bot: Snowbot) -> int:
        known = await bot.incident_ids()
        closing = await bot.closing_report(wanted)
        if closing is None:
            span = f"incidents {known[0]} to {known[-1]}" if known else "no incidents yet"
            raise SnowbotError(f"report --incident: there is no incident {wanted} ({span})")
        if closing.incident.ended_at is None:
            raise SnowbotError(
                f"report --incident: incident {wanted} ({closing.incident.name}) is still "
                "going on; it is reported when it ends (/incident close or /incident start)"
            )
        lang = args.lang or config.language
        print(render_closing(catalog(lang), closing, config.city.timezone))
        return 0

    return await with_bot(config, work, create=False)


async def export_command(args: argparse.Namespace, config: Config) -> int:
    out = Path(args.out)

    async def work(bot: Snowbot) -> int:
        # made only once the database was found: a refusal leaves no empty folder behind
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SnowbotError(f"{out}: cannot create the folder ({exc.strerror})") from None
        files = await bot.export()
        incident = await bot.incident()
        lang = args.lang or config.language
        files[xlsx_name(incident.id)] = await bot.export_workbook(incident.id, lang)
        for name, data in files.items():
            try:
                write_new(out / name, data)
            except OSError as exc:
                raise SnowbotError(f"{out / name}: cannot write ({exc.strerror})") from None
            print(out / name)
        return 0

    return await with_bot(config, work, create=False)


def write_new(path: Path, data: bytes) -> None:
    """Write a file whole, readable by its owner only, replacing what is there.

    Written beside it and renamed into place: a symlink planted at `path` is replaced,
    never followed, and a reader never sees half a file.
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
