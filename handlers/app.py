"""Building and running the Telegram Application: handlers, defaults, rate limiting, polling."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from handlers import admin, enrolment, marking, miniapp, residents, start, tasks, units
from handlers.common import SERVICE_KEY, Context
from handlers.delivery import Courier
from handlers.errors import on_error
from handlers.inbox import (
    KeepingQueue,
    LocalDrops,
    inbox_bot,
    leave,
    replay,
    start_sharing,
)
from handlers.jobs import COURIER_KEY, start_jobs, start_schedule
from handlers.lanes import LaneLimiter as LaneLimiter  # (the wiring's, for the stand-in)
from handlers.menus import COMMANDS_KEY, set_menus
from handlers.ordering import PerPersonUpdateProcessor, SharedUpdateProcessor
from handlers.photos import file_url
from handlers.registry import COMMANDS as REGISTRY
from handlers.webhook_server import WebhookServer
from snowbot.service import Snowbot
from snowbot.service.sweeps import Sweeps, Swept
from snowbot.settings.config import Config
from snowbot.settings.redact import redact
from snowbot.settings.webhook import Webhook

log = logging.getLogger("snowbot")
HANDLED_GROUP = 100  # runs after the feature handlers (group 0)

GET_UPDATES_POOL_TIMEOUT = 10.0  # seconds to wait for the one polling connection
SETTLE_POLL_SECONDS = 0.005  # `PollingBot.settle`: how often it looks
POLLS_KEY = "snowbot.polls"  # bot_data: the getUpdates connection (`Polls`)


class _QuietCleanup(logging.Filter):
    """PTB's last getUpdates at shutdown (it confirms what was fetched) is logged with a
    traceback when Telegram does not answer in time, as after a standby's takeover. The
    inbox hands an update delivered again to nobody twice, so it is a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Error while calling `get_updates`"):
            failure = record.exc_info[1]
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "at shutdown Telegram did not confirm the updates fetched (%s: %s); "
            record.msg += "any it sends again are recognised and not handled twice"
            record.args = (type(failure).__name__, failure)
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("telegram.ext.Updater").addFilter(_QuietCleanup())


def build_application(
    service: Snowbot,
    rate_limiter: BaseRateLimiter[int] | None = None,
    webhook: bool = False,
    shared: bool = False,
) -> Application:  # type: ignore[type-arg]
    """`shared`: other processes serve the same bot's webhook (PostgreSQL), so each
    person's updates are ordered in the database (`SharedUpdateProcessor`)."""
    config = service.config
    limiter = rate_limiter if rate_limiter is not None else LaneLimiter()
    # one connection, as Telegram allows one poll at a time; at shutdown PTB polls once
    # more to confirm what was fetched, and on a busy machine the cancelled long poll
    # may hold the connection past the 1 s default: PTB would log a traceback
    polls = Polls(
        connection_pool_size=1, pool_timeout=GET_UPDATES_POOL_TIMEOUT, proxy=config.telegram.proxy
    )
    processor = SharedUpdateProcessor(service) if shared else PerPersonUpdateProcessor()
    holder = processor.holder if isinstance(processor, SharedUpdateProcessor) else None
    keeper = functools.partial(_keep, service, holder)
    # built here rather than by the builder, for the inbox; the builder's own defaults
    bot = inbox_bot(
        keeper,
        processor.dropped,
        token=config.require_token(),
        base_url=config.telegram.base_url,
        base_file_url=file_url(config.telegram.base_url),
        defaults=Defaults(tzinfo=config.city.timezone),
        rate_limiter=limiter,
        request=HTTPXRequest(connection_pool_size=256, proxy=config.telegram.proxy),
        get_updates_request=polls,
    )
    builder = ApplicationBuilder().bot(bot).concurrent_updates(processor)
    if webhook:  # a webhook's updates are kept as they come, not as a batch is fetched
        queue = KeepingQueue(keeper)
        if isinstance(processor, SharedUpdateProcessor):
            bound = config.max_queued_per_person
            drops = LocalDrops(processor.waiting, bound, service.drop_updates)
            queue = KeepingQueue(keeper, processor.in_hand, drops)
        builder = builder.update_queue(queue)
    app = builder.post_init(_post_init).build()
    app.bot_data[SERVICE_KEY] = service
    app.bot_data[COURIER_KEY] = Courier(app.bot, service)
    app.bot_data[POLLS_KEY] = polls
    register(app)
    return app


def _keep(
    service: Snowbot,
    holder: str | None,
    updates: list[tuple[int, str]],
    people: dict[int, int],
    languages: dict[int, str | None],
) -> Awaitable[list[int]]:
    return service.keep_updates(updates, people, holder, languages)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, marking.first_delivery), group=-2)
    app.add_handler(TypeHandler(Update, marking.handled), group=HANDLED_GROUP)
    app.add_handler(TypeHandler(Update, _log_update), group=-1)
    app.bot_data[COMMANDS_KEY] = REGISTRY
    for command in REGISTRY:
        app.add_handler(CommandHandler(command.name, command.handler))
    # residents' reports first: what they do not take (no /report waiting) they hand on
    # to check-in
    app.add_handler(MessageHandler(filters.LOCATION, residents.location))
    app.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE,
            residents.plain_text,
        )
    )
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, admin.migrated))
    app.add_handler(
        MessageHandler(filters.PHOTO & filters.CaptionRegex(r"^/done"), tasks.done_photo)
    )
    app.add_handler(
        MessageHandler(
            filters.PHOTO & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE,
            residents.photo,
        )
    )
    app.add_handler(CallbackQueryHandler(residents.button, pattern=residents.PATTERN))
    app.add_handler(CallbackQueryHandler(units.button, pattern=units.PATTERN))
    app.add_handler(CallbackQueryHandler(enrolment.invite_press, pattern=enrolment.INVITE_PATTERN))
    app.add_handler(CallbackQueryHandler(tasks.button))
    app.add_handler(
        MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, start.unknown_command)
    )
    app.add_error_handler(on_error)


def _polling_failed(exc: TelegramError) -> None:
    """python-telegram-bot logs a whole traceback for each failed poll and tries again
    (waiting up to 30 s); in an outage of an hour one line each is plenty."""
    log.warning("fetching updates failed: %s; trying again", exc)


async def _log_update(update: Update, context: Context) -> None:
    user = update.effective_user
    kind = (
        "callback"
        if update.callback_query
        else (
            "location"
            if update.effective_message and update.effective_message.location
            else "message"
        )
    )
    log.info("update %s from %s: %s", update.update_id, user.id if user else "-", kind)


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    """Tell Telegram the command menus: each scope's, in each language (`handlers.menus`)."""
    await set_menus(app)
    await miniapp.set_menu_button(app)


class Polls(HTTPXRequest):
    """The getUpdates connection; once `closed`, it refuses to poll (a process that lost
    the lead: another one may be polling already, and Telegram would end one with 409)."""

    __slots__ = ("closed",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.closed = False

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if self.closed:
            raise NetworkError("not polling: this process no longer leads")
        return await super().do_request(*args, **kwargs)


@dataclass
class PollingBot:
    """The Application polling Telegram, and the service it calls."""

    app: Application  # type: ignore[type-arg]
    service: Snowbot
    door: WebhookServer | None = None  # the webhook's own server, when updates come so

    @property
    def courier(self) -> Courier:
        found: Courier = self.app.bot_data[COURIER_KEY]
        return found

    async def tick(self) -> Swept:
        """Run every sweep now and send what it queued, as the scheduler's jobs do."""
        swept = await Sweeps(self.service).everything()
        await self.courier.deliver()
        return swept

    async def settle(self) -> None:
        """Wait until every update taken in has been handled, then send what is due: a
        console (`snowbot play`) prints an update's replies before it reads the next line."""
        while not self.app.update_queue.empty() or (
            self.app.update_processor.current_concurrent_updates
        ):
            await asyncio.sleep(SETTLE_POLL_SECONDS)
        await self.courier.deliver()

    def start_scheduler(self) -> None:
        """The sweeps and reports, once this process leads (webhooks on PostgreSQL)."""
        start_schedule(self.app)

    async def stop(self) -> None:
        """Stop taking updates and starting jobs; let the updates and jobs under way finish
        and the courier's run end after the messages in hand; only then close the database
        (whatever still waits in the outbox goes at the next start)."""
        jobs = self.app.job_queue
        if jobs is not None and jobs.scheduler.running:
            jobs.scheduler.pause()
        self.courier.close()
        if self.door is not None:
            await self.door.stop()
        await stop_application(self.app)
        await self.courier.closed()
        await leave(self.app)
        await self.service.close()

    async def stop_polling(self) -> None:
        """Stop taking updates and starting scheduled jobs at once, and without PTB's last
        getUpdates, which confirms what was fetched: for a process that lost the lead.
        Telegram sends the fetched updates again to the new leader, which handles each
        once (handlers/inbox)."""
        polls: Polls = self.app.bot_data[POLLS_KEY]
        polls.closed = True
        if self.door is not None:
            await self.door.stop()
            self.door = None
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.job_queue is not None:  # jobs under way end as they will
            self.app.job_queue.scheduler.pause()


def unreachable(config: Config, exc: TelegramError) -> str:
    """One line for the operator on why the bot could not start talking to Telegram.

    PTB's own messages may quote the token, so none of them is passed on unredacted.
    """
    where = server_name(config)
    via = f" through the proxy {_proxy_host(config)}" if config.telegram.proxy else ""
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return (
            f"cannot reach {where}{via} ({redact(str(exc), config.telegram.token)}): check the "
            "network, [telegram] proxy (Telegram is blocked in some countries) and base_url"
        )
    return f"{where} refused to start the bot: {redact(exc.message, config.telegram.token)}"


def server_name(config: Config) -> str:
    """The Bot API server the config names, without the path (which may hold the token)."""
    server = urlsplit(config.telegram.base_url)
    return f"the Bot API at {server.scheme}://{server.netloc}"


def _proxy_host(config: Config) -> str:
    """The proxy's address without its user name and password."""
    proxy = urlsplit(config.telegram.proxy or "")
    return f"{proxy.scheme}://{proxy.hostname}" + (f":{proxy.port}" if proxy.port else "")


async def stop_application(app: Application) -> None:  # type: ignore[type-arg]
    """Stop polling, then the Application, whatever state it got to."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


async def start_polling(
    service: Snowbot,
    rate_limiter: BaseRateLimiter[int] | None = None,
    poll_interval: float = 0.0,
    timeout: int = 10,
    scheduled: bool = True,
    webhook: Webhook | None = None,
    shared: bool = False,
) -> PollingBot:
    """Start the Application on an open service: the jobs, the kept updates, polling (or
    the webhook server, which also tells Telegram the URL and the secret).

    `scheduled=False` leaves the sweeps to the caller's `PollingBot.tick()` (the demo,
    whose clock is simulated) or to `PollingBot.start_scheduler`; the outbox is delivered
    either way. `shared`: one of several webhook processes (see `build_application`);
    then updates another process kept and never handled are handled here once they are
    old (`replay_orphans`), rather than all kept ones at the start. The service is
    closed if the start fails.
    """
    app = None
    try:
        app = build_application(service, rate_limiter, webhook is not None, shared)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        if shared:
            await start_sharing(app)
        else:
            await replay(app, await service.unhandled_updates())
        start_jobs(app, scheduled)
        assert app.updater is not None
        if webhook is not None:
            door = WebhookServer(app, webhook, service.config.http)
            try:
                await door.start()
            except BaseException:
                await stop_application(app)
                raise
            return PollingBot(app, service, door)
        await app.updater.start_polling(
            poll_interval=poll_interval,
            timeout=timeout,
            allowed_updates=Update.ALL_TYPES,
            error_callback=_polling_failed,
        )
    except BaseException:
        if app is not None:  # e.g. the webhook's port taken: nothing left running
            with contextlib.suppress(Exception):
                await stop_application(app)
        await service.close()
        raise
    return PollingBot(app, service)
