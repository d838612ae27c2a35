"""The `snowbot` command line (docs/operators.md "Command line"). Errors are one line on stderr and
a non-zero exit. The parts are put together by `snowbot.app.wiring`, loaded only by the commands
that need them. (Over 400 lines: the argument table and one short function per command,
each easiest to read beside its arguments; the database commands are next to go.)"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from snowbot import __version__
from snowbot.app.cli_reports import (
    check_database,
    export_command,
    report_command,
    tally_command,
    with_bot,
)
from snowbot.app.wiring import open_service
from snowbot.service import Snowbot
from snowbot.settings.config import Config
from snowbot.settings.config_file import load_config
from snowbot.settings.config_secrets import readable_secrets, secrets_warning
from snowbot.settings.dashboard_config import split_listen
from snowbot.settings.errors import ConfigError, SnowbotError
from snowbot.settings.redact import hide_password, hide_token, redact

Command = Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    config_help = "the config file (default: $SNOWBOT_CONFIG, else ./config.toml)"
    # --config is taken before the command or after it: `snowbot --config F tally` and
    # `snowbot tally --config F`; after it, SUPPRESS keeps an absent one from undoing one before
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=config_help)
    parser = argparse.ArgumentParser(
        prog="snowbot",
        description="A Telegram bot that runs a city's volunteer snow-clearing effort.",
    )
    parser.add_argument("--config", metavar="FILE", help=config_help)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run", parents=[common], help="run the bot (long polling, or --webhook behind a proxy)"
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="take updates by webhook at this public URL (a reverse proxy passes them on)",
    )
    run.add_argument(
        "--listen", metavar="ADDR", help="with --webhook: the address to listen on (127.0.0.1)"
    )
    run.add_argument("--port", metavar="N", help="with --webhook: the port to listen on (8443)")
    run.set_defaults(handler=_run)

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="a simulated storm through the real bot; no token, no network",
    )
    demo.add_argument(
        "--scale",
        choices=("small", "seed"),
        default="small",
        help="small: a few hundred people (default); seed: ~56,000 person-times",
    )
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="keep serving the one-screen overview after the storm, until Ctrl+C",
    )
    demo.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default="127.0.0.1:0",
        help='where the demo serves the overview (default: a free port on 127.0.0.1; "" for none)',
    )
    demo.set_defaults(handler=_demo)

    play = sub.add_parser(
        "play",
        parents=[common],
        help="talk to the real bot without Telegram: lines from the terminal or a script",
    )
    play.set_defaults(handler=_play)

    bench = sub.add_parser(
        "bench",
        parents=[common],
        help="the storm benchmark: every figure beside its baseline, in one run",
    )
    bench.add_argument("--quick", action="store_true", help="small sizes: runs in seconds")
    bench.add_argument("--json", action="store_true", help="one JSON object with every figure")
    bench.add_argument(
        "--postgres",
        metavar="URL",
        help="also figures 1-3 on PostgreSQL, in this empty scratch database (it writes there)",
    )
    bench.add_argument(
        "--only",
        choices=("replies_first", "webhooks", "flood"),
        help="run this figure alone (with its own baseline); webhooks (two processes against "
        "one) and flood need --postgres",
    )
    # the memory figure measures a bot in a process of its own, started through this option
    bench.add_argument("--memory-probe", choices=("snowbot", "bare"), help=argparse.SUPPRESS)
    bench.set_defaults(handler=_bench)

    tally = sub.add_parser("tally", parents=[common], help="the current incident's tally")
    tally.add_argument("--json", action="store_true", help="print the tally as JSON")
    tally.set_defaults(handler=tally_command)

    report = sub.add_parser(
        "report",
        parents=[common],
        help="the closing report of an ended incident",
        description="Print the closing report of an ended incident (the one /incident start "
        "or /incident close sends), read from the database even while the bot runs.",
    )
    report.add_argument(
        "--incident", metavar="ID", required=True, help="the incident's number (see /incident)"
    )
    report.add_argument(
        "--lang", choices=("zh", "en"), help="the report's language (default: [bot] language)"
    )
    report.set_defaults(handler=report_command)

    export = sub.add_parser(
        "export",
        parents=[common],
        help="write shifts.csv, tasks.csv, reports.csv and snowbot-<id>.xlsx of the current "
        "incident",
    )
    export.add_argument("--out", metavar="DIR", required=True, help="the folder to write to")
    export.add_argument(
        "--lang",
        choices=("zh", "en"),
        help="the workbook's headers and words (default: [bot] language)",
    )
    export.set_defaults(handler=export_command)

    back = sub.add_parser(
        "backup",
        parents=[common],
        help="a consistent copy of the database, even while the bot runs",
    )
    back.add_argument("file", metavar="FILE", help="where to write the copy (must not exist)")
    back.set_defaults(handler=_backup)

    rest = sub.add_parser(
        "restore",
        parents=[common],
        help="replace the database with a backup (stop the bot first)",
        description="Replace the database with FILE, after checking that it is a snowbot "
        "database this version can read. The database it replaces is kept beside it.",
    )
    rest.add_argument("file", metavar="FILE")
    rest.set_defaults(handler=_restore)

    imp = sub.add_parser(
        "import-streets",
        parents=[common],
        help="import a gazetteer: CSV (district,street,lat,lon) or GeoJSON lines",
        description="Import streets from CSV (district,street,lat,lon) or from GeoJSON "
        "(a FeatureCollection of LineString/MultiLineString features, as exported from "
        "OpenStreetMap, with the street's name in properties.name). Re-importing the same "
        "file changes nothing; a file with any bad row or feature is refused whole.",
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument(
        "--district-property",
        metavar="NAME",
        help="GeoJSON: the property holding each street's district "
        "(default: [city] district_property, else 'district')",
    )
    imp.add_argument(
        "--district", metavar="NAME", help="GeoJSON: one district for every street of the file"
    )
    imp.set_defaults(handler=_import_streets)

    copy = sub.add_parser(
        "copy-db",
        parents=[common],
        help="copy a whole database between SQLite and PostgreSQL (into an empty one)",
        description="Copy every row of FROM into TO, each a SQLite file or a PostgreSQL URL "
        "(postgresql://user@host/db), then check that both tallies agree. TO must be empty; "
        "stop the bot first, so that nothing changes FROM meanwhile.",
    )
    copy.add_argument("source", metavar="FROM")
    copy.add_argument("target", metavar="TO")
    copy.set_defaults(handler=_copy_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # the demo's output is its transcript; the bot's own log would drown it
    level = logging.WARNING if args.handler in (_demo, _bench, _play) else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and the URL holds the token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler logs every run of every job: with second-scale settings, several a second
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Known before the config is read, so that a mistake in the config cannot show it either
    token = os.environ.get("SNOWBOT_TOKEN")
    hide_token(token)
    # Everything this process writes (the database, its backups, exports) holds names and
    # positions of people: readable by the operator's account only
    os.umask(0o077)
    _log_thread_failures()
    try:
        config = load_config(args.config)
        token = config.telegram.token
        hide_token(token)
        _warn_if_readable(config)
        handler: Command = args.handler
        return asyncio.run(handler(args, config))
    except SnowbotError as exc:
        print(f"snowbot: {redact(str(exc), token)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`snowbot tally --json | head`): as a Unix tool does, stop
        # quietly; stdout is pointed at /dev/null so that Python's final flush is quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe
    except Exception as exc:  # an unforeseen failure is still one line, and never the token
        what = redact(hide_password(f"{type(exc).__name__}: {exc}"), token)
        print(f"snowbot: unexpected error: {what}", file=sys.stderr)
        return 1


def _log_thread_failures() -> None:
    """A failure in a worker thread is one line of the (token-free) log, not a traceback."""

    def hook(failure: threading.ExceptHookArgs) -> None:
        name = failure.thread.name if failure.thread else "?"
        logging.getLogger("snowbot").error(
            "thread %s failed: %s: %s", name, failure.exc_type.__name__, failure.exc_value
        )

    threading.excepthook = hook


def _warn_if_readable(config: Config) -> None:
    """A config file that holds a secret (the token, the database password, the webhook
    secret, the overview's token) should be readable by its owner only."""
    if config.source is None:
        return
    found = readable_secrets(config.source)
    if found:
        logging.getLogger("snowbot").warning("%s", secrets_warning(config.source, found))


async def _backup(args: argparse.Namespace, config: Config) -> int:
    from snowbot.app.database_commands import backup_database

    size = backup_database(config, Path(args.file))
    print(f"{args.file}: a copy of {config.database_name} ({size:,} bytes)")
    return 0


async def _restore(args: argparse.Namespace, config: Config) -> int:
    from snowbot.app.database_commands import restore_database

    kept = await restore_database(config, Path(args.file))
    # opening it brings an older backup's schema up to date
    service = await open_service(config)
    try:
        tally = await service.tally()
    finally:
        await service.close()
    where = f"; the previous one is kept as {kept}" if kept else ""
    print(
        f"{config.database_name}: restored from {args.file} (incident {tally.incident.name!r}, "
        f"{tally.person_times} person-times){where}"
    )
    return 0


async def _copy_db(args: argparse.Namespace, config: Config) -> int:
    from snowbot.app.database_commands import copy_database

    print(await copy_database(config, args.source, args.target))
    return 0


async def _import_streets(args: argparse.Namespace, config: Config) -> int:
    async def work(bot: Snowbot) -> int:
        counts = await bot.import_streets(
            Path(args.file), district_property=args.district_property, district=args.district
        )
        units = (
            f"; {counts.reassigned} changed unit, {counts.units_added} new units"
            if counts.reassigned or counts.units_added
            else ""
        )
        print(
            f"{args.file}: {counts.added} added, {counts.moved} moved, "
            f"{counts.unchanged} unchanged{units}; {len(bot.directory.streets)} streets in all"
        )
        return 0

    return await with_bot(config, work)


async def _run(args: argparse.Namespace, config: Config) -> int:
    from snowbot.app.wiring import run_polling
    from snowbot.settings.webhook import webhook

    hook = None
    if args.webhook is not None:
        hook = webhook(args.webhook, args.listen, args.port, config.telegram.webhook_secret)
    elif args.listen is not None or args.port is not None:
        raise ConfigError("--listen and --port go with --webhook URL")
    check_database(config, create=True)
    await run_polling(config, hook)
    return 0


async def _demo(args: argparse.Namespace, config: Config) -> int:
    from snowbot.app.tool_starters import demo_starter
    from snowbot.tools.demo import run_demo

    serve: str | None = args.listen or None
    if serve is not None:
        try:
            split_listen(serve)
        except ValueError:
            raise ConfigError(
                f"--listen: {serve!r} is not an address like 127.0.0.1:8080"
            ) from None
    starter = demo_starter(serve, linger=args.serve and serve is not None)
    return await run_demo(config, scale=args.scale, quiet=args.quiet, start_bot=starter)


async def _play(args: argparse.Namespace, config: Config) -> int:
    from snowbot.app.tool_starters import start_played_bot
    from snowbot.tools.play import Console, run_play

    return await run_play(config, start_bot=start_played_bot, console=Console())


async def _bench(args: argparse.Namespace, config: Config) -> int:
    from snowbot.app.tool_starters import bench_kit
    from snowbot.tools import bench

    if args.only in ("webhooks", "flood") and not args.postgres:
        raise ConfigError(f"bench --only {args.only}: needs --postgres URL (a scratch database)")
    kit = bench_kit()
    if args.memory_probe:
        sizes = bench.QUICK if args.quick else bench.FULL
        print(f"{await bench.memory_probe(kit, config, sizes, args.memory_probe):.1f}")
        return 0
    figures = await bench.run_bench(
        kit,
        config,
        quick=args.quick,
        progress=not args.json,
        config_file=args.config,
        postgres=args.postgres,
        only=args.only,
    )
    print(bench.as_json(figures) if args.json else bench.as_table(figures))
    return 0 if all(f.met for f in figures) else 1


# last, so that every command above is defined when `python -m snowbot.app.cli` runs it
if __name__ == "__main__":
    raise SystemExit(main())
