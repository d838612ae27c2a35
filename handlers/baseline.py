"""The benchmark's baseline: a bare python-telegram-bot Application that answers each
location with one message, built and polled exactly as snowbot's own Application is."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.app import stop_application
from handlers.ordering import PerPersonUpdateProcessor


@dataclass
class BareBot:
    app: Application  # type: ignore[type-arg]

    async def stop(self) -> None:
        await stop_application(self.app)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("ok", do_quote=False)


async def start_bare_bot(token: str, base_url: str, timeout: int = 1) -> BareBot:
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=0, group_max_rate=0))
        .concurrent_updates(PerPersonUpdateProcessor())
        .build()
    )
    app.add_handler(MessageHandler(filters.LOCATION, _answer))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=timeout)
    return BareBot(app)
