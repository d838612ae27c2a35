"""Where the parts are put together: the storage engine the config names, the service on
it, and the Telegram adapter around the service.

This module and the CLI that calls it are the composition root: the only modules of
`snowbot` that may import `storage`, `handlers` or `telegram` (the import contracts in
pyproject.toml name them), with `snowbot.app.database_commands` beside them for the CLI's
backup, restore and copy-db. Everything else of the domain sees storage only through
`snowbot.domain.stores` and Telegram not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowbot.domain.directory import Directory
from snowbot.service import Snowbot
from snowbot.service.geocoding import Geocoder, geocoder_for
from snowbot.service.miniapp import MiniApp
from snowbot.settings.config import Config
from snowbot.settings.errors import ConfigError, SnowbotError
from snowbot.settings.leadership import lead, watch
from snowbot.settings.webhook import Webhook, serve_beside
from storage import leadership_for, open_store

if TYPE_CHECKING:
    from telegram.ext import BaseRateLimiter

    from handlers.app import PollingBot
    from web import Overview

log = logging.getLogger("snowbot")


def use_timedelta_durations() -> None:
    """Opt in to python-telegram-bot's timedelta durations before it is used.

    python-telegram-bot 22 deprecates whole seconds in favour of timedelta
    (`RetryAfter.retry_after` and other durations) and warns on every use until a
    program opts in through the environment variable PTB_TIMEDELTA; we take the future
    form now. An operator's own setting is respected: the courier reads both forms.
    """
    os.environ.setdefault("PTB_TIMEDELTA", "true")


async def open_service(
    config: Config, clock: Callable[[], float] = time.time, geocoder: Geocoder | None = None
) -> Snowbot:
    """Open the database the config names and load the city into memory.

    `geocoder`: for tests; by default the one the config names, if any.
    """
    store = await open_store(config.address)
    geocoder = geocoder or geocoder_for(config.geo, config.telegram.proxy)
    service = Snowbot(store, config, Directory([], []), clock, geocoder)
    try:
        await service.reload_streets()
    except BaseException:
        await service.close()
        raise
    return service


async def start_bot(
    config: Config,
    clock: Callable[[], float] | None = None,
    rate_limiter: BaseRateLimiter[int] | None = None,
    poll_interval: float = 0.0,
    timeout: int = 10,
    scheduled: bool = True,
    geocoder: Geocoder | None = None,
    webhook: Webhook | None = None,
    shared: bool = False,
) -> PollingBot:
    """Open the database, import the gazetteer, start the jobs and poll; as `snowbot run` does.

    `rate_limiter`: a python-telegram-bot rate limiter (default: Telegram's limits).
    `scheduled=False` leaves the sweeps to the caller's `PollingBot.tick()` (the demo).
    `shared`: one of several webhook processes on PostgreSQL (`handlers.app.start_polling`).
    """
    use_timedelta_durations()
    from handlers.app import start_polling

    service = await open_service(config, clock or time.time, geocoder)
    try:
        if config.city.gazetteer is not None:
            counts = await service.import_streets(config.city.gazetteer)
            log.info(
                "gazetteer %s: %d added, %d moved, %d unchanged, %d changed unit, %d new units",
                config.city.gazetteer,
                counts.added,
                counts.moved,
                counts.unchanged,
                counts.reassigned,
                counts.units_added,
            )
        await service.incident()
        # streets imported by another process (`snowbot import-streets`) are used within
        # seconds, and the overview shows what other processes changed (docs/operators.md "Several
        # processes, one database")
        service.start_following()
    except BaseException:
        await service.close()
        raise
    return await start_polling(
        service,
        rate_limiter,
        poll_interval=poll_interval,
        timeout=timeout,
        scheduled=scheduled,
        webhook=webhook,
        shared=shared,
    )


async def run_polling(config: Config, webhook: Webhook | None = None) -> None:
    """`snowbot run`: lead (or stand by until the leader stops), then poll (or serve the
    webhook) and the overview until SIGINT or SIGTERM, or until the lead is lost. Webhook
    processes on PostgreSQL all serve at once; the leader alone runs the scheduler."""
    # the overview always asks for a token: the configured one, or one every process of
    # this bot derives alike (so /dashboard's link works whichever process serves it)
    if config.dashboard.enabled and not config.dashboard.token:
        log.info(
            "dashboard.token is empty: the overview's token is derived from the bot's token "
            "(the same in every process); a coordinator's /dashboard hands out the link"
        )
    config = replace(config, dashboard=config.dashboard.with_token(config.require_token()))
    # on PostgreSQL every webhook process serves at once and the leader alone runs the
    # scheduler; on SQLite (one file, one machine) a second process stands by instead
    many = webhook is not None and bool(config.database_url)
    if many and webhook is not None:
        webhook.require_shared_secret()
    # the first line of the log, once the config is known good: which engine and which
    # database (several processes, two engines)
    log.info("%s", config.database_line)
    if not config.coordinators:
        log.warning(
            "access.coordinators is empty: nobody can grant roles. Send /whoami to the bot, "
            "put the id it shows in [access] coordinators and restart"
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    leadership = leadership_for(config.address)
    try:
        if not many and not await _first(asyncio.create_task(lead(leadership)), stop):
            return  # stopped while standing by
        lost = asyncio.Event()
        # the lead is renewed from now on: a first start may take a while (the gazetteer);
        # several webhook processes serve at once and take the lead when they can
        watcher = None if many else asyncio.create_task(watch(leadership, lost))
        try:
            running = await _start_leading(config, webhook, many)
            try:
                overview = (
                    await start_overview(running.service, config, running)
                    if config.dashboard.enabled
                    else None
                )
            except ConfigError as exc:  # the overview's address is taken (web/server.py)
                if not many:
                    await running.stop()
                    raise
                # several webhook processes on one machine: the first serves the overview
                log.warning("the overview is not served by this process: %s", exc)
                overview = None
            except BaseException:
                await running.stop()
                raise
            log.info("snowbot is running for %s; press Ctrl+C to stop", config.city.name)
            if watcher is None:
                watcher = asyncio.create_task(
                    serve_beside(leadership, running.start_scheduler, lost)
                )
            try:
                await _first(asyncio.create_task(lost.wait()), stop)
            finally:
                if lost.is_set():  # first, and without a last poll: another may poll soon
                    await running.stop_polling()
                if overview is not None:
                    await overview.stop()
                await running.stop()
        finally:
            if watcher is not None:
                watcher.cancel()
        if lost.is_set():
            raise SnowbotError(f"lost the lead ({leadership.where}); start again to stand by")
    finally:
        await leadership.release()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start_leading(config: Config, webhook: Webhook | None, shared: bool) -> PollingBot:
    """The bot started by its leader (or by every webhook process, `shared`): polling, or
    the webhook; failures as one line."""
    from telegram.error import InvalidToken, TelegramError

    from handlers.app import server_name, unreachable

    try:
        running = await start_bot(config, webhook=webhook, scheduled=not shared, shared=shared)
    except InvalidToken:  # PTB's message quotes the token: never pass it on
        raise ConfigError(
            f"telegram.token: {server_name(config)} refused this token (revoked? ask "
            "@BotFather for the current one; check base_url too)"
        ) from None
    except TelegramError as exc:
        raise SnowbotError(unreachable(config, exc)) from None
    except OSError as exc:  # the webhook's address is taken or not this machine's
        if webhook is None:
            raise
        raise SnowbotError(
            f"--webhook: cannot listen on {webhook.listen}:{webhook.port}: {exc.strerror or exc}"
        ) from None
    if webhook is not None:
        log.info(
            "taking updates by webhook at %s (listening on %s:%d, secret %s)",
            webhook.url,
            webhook.listen,
            webhook.port,
            "made for this run" if webhook.secret_generated else "from the config",
        )
    return running


async def _first(task: asyncio.Task[Any], stop: asyncio.Event) -> bool:
    """Wait for `task` or `stop`, whichever comes first; True when the task finished."""
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False
    task.result()  # what it raised, raised here
    return True


async def until_stopped() -> None:
    """Wait for Ctrl+C (SIGINT) or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def start_overview(
    service: Snowbot, config: Config, running: PollingBot | None = None
) -> Overview:
    """The one-screen overview (docs/operators.md "The overview"), on the bot's own event loop; with
    the Mini App (docs/commands.md "The Mini App") when the bot `running` beside it acts for the
    app."""
    from web import Overview

    miniapp = mini_app(running, config) if running is not None else None
    overview = Overview(service, config.dashboard, miniapp, photo_dir(config))
    await overview.start()
    return overview


def mini_app(running: PollingBot, config: Config) -> MiniApp:
    """The Mini App's doors into the running bot: its acts as the person's updates, and
    photos fetched from Telegram."""
    from handlers.miniapp import AppDoor, TelegramPhotos

    return MiniApp(
        bot_token=config.require_token(),
        actions=AppDoor(running.app),
        photos=TelegramPhotos(running.app.bot),
    )


def photo_dir(config: Config) -> Path:
    """The Mini App's photos, kept beside the database ("snowbot-photos/")."""
    return config.database.parent / f"{config.database.stem}-photos"
