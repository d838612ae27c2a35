"""`snowbot run --webhook URL`: what the operator gives (checked, one line when wrong), the
secret Telegram must send with every update, and how several webhook processes share one
bot on PostgreSQL (all serve; the leader alone runs the scheduler).

Behind a reverse proxy, the bot's own webhook server listens on `listen:port` (loopback
by default) and the proxy passes it `URL`'s requests with the same path. Telegram sends
the secret in the `X-Telegram-Bot-Api-Secret-Token` header; a request without it or
with another gets 403 and changes nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from snowbot.settings.errors import ConfigError
from snowbot.settings.leadership import RETRY_SECONDS, Leadership, watch

log = logging.getLogger("snowbot")

DEFAULT_LISTEN = "127.0.0.1"
DEFAULT_PORT = 8443
# what Telegram accepts as a secret token: 1-256 of these characters
SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


@dataclass(frozen=True)
class Webhook:
    url: str  # what Telegram posts to (the reverse proxy's address)
    path: str  # the path the bot's own server answers on
    listen: str
    port: int
    secret: str
    secret_generated: bool  # made for this run: Telegram learns it from setWebhook

    def require_shared_secret(self) -> None:
        """On PostgreSQL several processes may serve the webhook, and each tells Telegram
        its secret at the start: one made per process would lock the others out, so the
        secret must be the configured one, the same in each."""
        if self.secret_generated:
            raise ConfigError(
                "telegram.webhook_secret: required with --webhook on PostgreSQL (every "
                "webhook process of the bot must check the same secret); e.g. the output of: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )


def webhook(
    url: str, listen: str | None, port: str | None, configured_secret: str | None
) -> Webhook:
    """The webhook the command line asks for, or a one-line ConfigError."""
    parts = urlsplit(url.strip())
    try:
        url_port = parts.port
    except ValueError:
        raise ConfigError(f"--webhook: {url!r} has a port that is not a number 1-65535") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"--webhook: {url!r} is not a URL like https://bot.example.org/telegram "
            "(Telegram posts updates to it; https, or http for a local Bot API server)"
        )
    if parts.username or parts.password or parts.fragment:
        raise ConfigError(f"--webhook: {url!r} must not hold a user name, password or #fragment")
    if url_port == 0:
        raise ConfigError(f"--webhook: {url!r} has port 0")
    chosen = DEFAULT_LISTEN if listen is None else listen.strip()
    if not _listen_ok(chosen):
        raise ConfigError(f"--listen: {listen!r} is not an IP address or host name to listen on")
    chosen_port = DEFAULT_PORT
    if port is not None:
        if not port.strip().isdigit() or not 1 <= int(port) <= 65535:
            raise ConfigError(f"--port: {port!r} is not a port number 1-65535")
        chosen_port = int(port)
    secret, generated = configured_secret, False
    if secret is None:
        secret, generated = secrets.token_urlsafe(32), True
    return Webhook(url.strip(), parts.path or "/", chosen, chosen_port, secret, generated)


def check_secret(value: str, where: str) -> str:
    if not SECRET.match(value):
        raise ConfigError(f"{where}: 1 to 256 letters, digits, _ or - (what Telegram accepts)")
    return value


def _listen_ok(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(_HOST.match(value)) and not value.startswith(("-", "."))
    return True


async def serve_beside(
    leadership: Leadership, start_scheduler: Callable[[], None], lost: asyncio.Event
) -> None:
    """One of several webhook processes on PostgreSQL: it serves from the start, and starts
    the scheduler once it leads (at once, or when the leader dies), without stopping its
    webhook server; then sets `lost` as `snowbot.settings.leadership.watch` does. Until
    cancelled."""
    if not await leadership.try_lead():
        log.info(
            "another snowbot runs the scheduler (%s is held): serving the webhook beside it, "
            "ready to take the scheduler over",
            leadership.where,
        )
        while not await leadership.try_lead():
            await asyncio.sleep(RETRY_SECONDS)
        log.warning("the snowbot running the scheduler stopped: taking it over")
    start_scheduler()
    await watch(leadership, lost)
