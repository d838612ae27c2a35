"""The webhook's own HTTP server (aiohttp, in place of python-telegram-bot's): Telegram's
secret is checked, in constant time, before a byte of the body is read; a body is at most
`MAX_BODY` (Telegram's updates are far smaller); the port's connections are capped and
idle ones closed (`snowbot.settings.doors`). An update that passes is queued, and so kept
(handlers/inbox), before Telegram gets its 200.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ExtBot

from snowbot.settings.doors import Doors, DoorsConfig
from snowbot.settings.webhook import Webhook

log = logging.getLogger("snowbot")

MAX_BODY = 1 << 20
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _refused(status: int, text: str) -> web.Response:
    """An answer that also ends the connection, so the body sent after it is never read."""
    response = web.Response(status=status, text=text)
    response.force_close()
    return response


class WebhookServer:
    """Listens on the webhook's address and tells Telegram the URL and the secret."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        webhook: Webhook,
        doors: DoorsConfig,
    ) -> None:
        self.app, self.webhook = app, webhook
        self.secret = webhook.secret.encode()
        self.doors = Doors.of("the webhook port", doors)
        web_app = web.Application(client_max_size=MAX_BODY, middlewares=[self.doors.middleware])
        web_app.router.add_post(webhook.path, self.receive)
        # an update being kept is never cut short by Telegram hanging up
        self.runner = self.doors.runner(web_app, handler_cancellation=False)

    async def start(self) -> None:
        """Listen (OSError when the address is taken), then set the webhook."""
        await self.runner.setup()
        try:
            await self.doors.serve(self.runner, self.webhook.listen, self.webhook.port)
            await self.app.bot.set_webhook(
                url=self.webhook.url,
                allowed_updates=Update.ALL_TYPES,
                secret_token=self.webhook.secret,
            )
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await self.doors.close()
        await self.runner.cleanup()

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self.secret):
            return _refused(403, "403: Forbidden")
        if request.content_type != "application/json":
            return _refused(403, "403: Forbidden")
        if (request.content_length or 0) > MAX_BODY:
            return _refused(413, "413: Request Entity Too Large")
        try:
            data: Any = await request.json()  # a chunked body is cut at client_max_size
            update = Update.de_json(data, self.app.bot)
        except web.HTTPRequestEntityTooLarge:
            return _refused(413, "413: Request Entity Too Large")
        except Exception as exc:  # not JSON, or not an update: Telegram never sends it
            log.warning("the webhook got a body that is not an update: %s", type(exc).__name__)
            return _refused(400, "400: Bad Request")
        if isinstance(self.app.bot, ExtBot):
            self.app.bot.insert_callback_data(update)
        await self.app.update_queue.put(update)
        return web.Response(text="ok")
