"""Building and running the Telegram Application: handlers, defaults, rate limiting, polling."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
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

from handlers import (
    admin,
    checkin,
    dashboard,
    enrolment,
    marking,
    places,
    reports,
    residents,
    start,
    tasks,
    units,
)
from handlers.common import SERVICE_KEY, Context
from handlers.delivery import Courier
from handlers.errors import on_error
from handlers.inbox import KeepingQueue, inbox_bot, replay, replay_orphans
from handlers.jobs import COURIER_KEY, start_jobs, start_schedule
from handlers.ordering import PerPersonUpdateProcessor, SharedUpdateProcessor
from snowbot.config import Config
from snowbot.redact import redact
from snowbot.service import Snowbot
from snowbot.sweeps import Sweeps, Swept
from snowbot.texts import catalog
from snowbot.webhook import Webhook

log = logging.getLogger("snowbot")
HANDLED_GROUP = 100  # runs after the feature handlers (group 0)

GET_UPDATES_POOL_TIMEOUT = 10.0  # seconds to wait for the one polling connection
ORPHANS_EVERY_SECONDS = 5.0  # several webhook processes: how often each looks for orphans
POLLS_KEY = "snowbot.polls"  # bot_data: the getUpdates connection (`Polls`)

COMMANDS = (
    "start",
    "help",
    "whoami",
    "lang",
    "checkin",
    "checkout",
    "tasks",
    "report",
    "reports",
    "accept",
    "release",
    "done",
    "newtask",
    "cancel",
    "tally",
    "unserved",
    "export",
    "grant",
    "revoke",
    "bind",
    "unbind",
    "invite",
    "invites",
    "uninvite",
    "incident",
    "unit",
    "units",
    "dashboard",
)


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
    limiter = rate_limiter if rate_limiter is not None else AIORateLimiter(max_retries=3)
    # one connection, as Telegram allows one poll at a time; at shutdown PTB polls once
    # more to confirm what was fetched, and on a busy machine the cancelled long poll
    # may hold the connection past the 1 s default: PTB would log a traceback
    polls = Polls(
        connection_pool_size=1, pool_timeout=GET_UPDATES_POOL_TIMEOUT, proxy=config.telegram.proxy
    )
    # built here rather than by the builder, for the inbox; the builder's own defaults
    bot = inbox_bot(
        service.keep_updates,
        token=config.require_token(),
        base_url=config.telegram.base_url,
        defaults=Defaults(tzinfo=config.city.timezone),
        rate_limiter=limiter,
        request=HTTPXRequest(connection_pool_size=256, proxy=config.telegram.proxy),
        get_updates_request=polls,
    )
    processor = SharedUpdateProcessor(service) if shared else PerPersonUpdateProcessor()
    builder = ApplicationBuilder().bot(bot).concurrent_updates(processor)
    if webhook:  # a webhook's updates are kept as they come, not as a batch is fetched
        builder = builder.update_queue(KeepingQueue(service.keep_updates))
    app = builder.post_init(_post_init).build()
    app.bot_data[SERVICE_KEY] = service
    app.bot_data[COURIER_KEY] = Courier(app.bot, service)
    app.bot_data[POLLS_KEY] = polls
    register(app)
    return app


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, marking.first_delivery), group=-2)
    app.add_handler(TypeHandler(Update, marking.handled), group=HANDLED_GROUP)
    app.add_handler(TypeHandler(Update, _log_update), group=-1)
    command_handlers = {
        "start": start.start,
        "help": start.help_command,
        "whoami": start.whoami,
        "lang": start.lang,
        "checkin": checkin.checkin,
        "checkout": checkin.checkout,
        "newtask": tasks.newtask,
        "tasks": tasks.tasks,
        "report": residents.report,
        "reports": residents.reports,
        "accept": tasks.accept,
        "release": places.release,
        "done": tasks.done,
        "cancel": tasks.cancel,
        "tally": reports.tally,
        "unserved": reports.unserved,
        "export": reports.export,
        "grant": admin.grant,
        "revoke": admin.revoke,
        "bind": admin.bind,
        "unbind": admin.unbind,
        "invite": enrolment.invite,
        "invites": enrolment.invites,
        "uninvite": enrolment.uninvite,
        "incident": admin.incident,
        "unit": units.unit,
        "units": units.units,
        "dashboard": dashboard.dashboard,
    }
    for name, callback in command_handlers.items():
        app.add_handler(CommandHandler(name, callback))
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
    """Tell Telegram the command list, in both languages."""
    for language in ("en", "zh"):
        t = catalog(language)
        commands = [BotCommand(name, t(f"commands.{name}")) for name in COMMANDS]
        await app.bot.set_my_commands(
            commands, language_code=language if language != "en" else None
        )


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

    @property
    def courier(self) -> Courier:
        found: Courier = self.app.bot_data[COURIER_KEY]
        return found

    async def tick(self) -> Swept:
        """Run every sweep now and send what it queued, as the scheduler's jobs do."""
        swept = await Sweeps(self.service).everything()
        await self.courier.deliver()
        return swept

    def start_scheduler(self) -> None:
        """The sweeps and reports, once this process leads (webhooks on PostgreSQL)."""
        start_schedule(self.app)

    async def stop(self) -> None:
        await stop_application(self.app)
        await self.service.close()

    async def stop_polling(self) -> None:
        """Stop taking updates and starting scheduled jobs at once, and without PTB's last
        getUpdates, which confirms what was fetched: for a process that lost the lead.
        Telegram sends the fetched updates again to the new leader, which handles each
        once (handlers/inbox)."""
        polls: Polls = self.app.bot_data[POLLS_KEY]
        polls.closed = True
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
            assert app.job_queue is not None
            app.job_queue.run_repeating(
                replay_orphans, interval=ORPHANS_EVERY_SECONDS, first=0, name="orphans"
            )
        else:
            await replay(app, await service.unhandled_updates())
        start_jobs(app, scheduled)
        assert app.updater is not None
        if webhook is not None:
            await app.updater.start_webhook(
                listen=webhook.listen,
                port=webhook.port,
                url_path=webhook.path,
                webhook_url=webhook.url,
                allowed_updates=Update.ALL_TYPES,
                secret_token=webhook.secret,
            )
            return PollingBot(app, service)
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
