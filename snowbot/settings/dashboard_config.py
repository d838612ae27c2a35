"""`[dashboard]`: where the one-screen overview listens, its token, its link and its tiles.

Kept apart from `snowbot.settings.config` (which reads it through `parse_dashboard`) so that the
overview's settings and their checks stay in one place.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from snowbot.settings.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:8080"
KEYS = {"listen", "token", "public_url", "tiles", "photo_cache_mb"}
TOKEN_ENV = "SNOWBOT_DASHBOARD_TOKEN"
MIN_TOKEN = 16  # a token short enough to guess is no token


@dataclass(frozen=True)
class DashboardConfig:
    listen: str = DEFAULT_LISTEN  # "" turns the overview off
    token: str | None = None  # None: `snowbot run` derives one (`with_token`)
    public_url: str = ""
    tiles: str = ""
    photo_cache_mb: int = 200  # the Mini App's photos kept on disk (0: fetched each time)

    @property
    def enabled(self) -> bool:
        return bool(self.listen)

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def with_token(self, secret: str) -> DashboardConfig:
        """This config with a token: the configured one, else one derived from `secret` (the
        bot's Telegram token), so that every process of the bot, now and after a restart,
        checks the same one and /dashboard in any of them hands out a link that works in
        all. Setting `[dashboard] token` changes it."""
        if self.token:
            return self
        derived = hmac.new(secret.encode(), b"snowbot overview token", hashlib.sha256)
        return replace(self, token=derived.hexdigest()[:32])

    def host_allowed(self, host: str | None) -> bool:
        """Whether a request's Host header names this overview: the listen address, or
        `public_url`'s host; on loopback also localhost, and on every address (0.0.0.0,
        [::]) any IP address. A name elsewhere means DNS rebinding: a page from another
        site whose name now points here."""
        if not host:
            return False
        try:
            name = urlsplit("//" + host).hostname
        except ValueError:
            return False
        if not name:
            return False
        name = name.rstrip(".")
        public = urlsplit(self.public_url).hostname if self.public_url else None
        if name in (self.host.lower(), public):
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return self.loopback and name == "localhost"
        if self.loopback:
            return address.is_loopback
        return self.host in ("0.0.0.0", "::")


def split_listen(listen: str) -> tuple[str, int]:
    """("127.0.0.1", 8080) from "127.0.0.1:8080"; "[::1]:8080" for IPv6."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", listen)
    if match is None:
        raise ValueError(listen)
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if port > 65535:
        raise ValueError(listen)
    return host, port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_dashboard(section: Mapping[str, Any], env: Mapping[str, str]) -> DashboardConfig:
    """The `[dashboard]` table (already checked for unknown keys), or ConfigError."""

    def text(key: str) -> str | None:
        value = section.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"dashboard.{key}: {value!r} must be a string in quotes")
        return value.strip() if value is not None else None

    listen = text("listen")
    listen = DEFAULT_LISTEN if listen is None else listen
    if listen:
        try:
            split_listen(listen)
        except ValueError:
            raise ConfigError(
                f'dashboard.listen: {listen!r} is not an address like "127.0.0.1:8080" '
                'or "[::1]:8080" ("" turns the overview off)'
            ) from None
    token = env.get(TOKEN_ENV) or text("token") or None
    if token is not None and (len(token) < MIN_TOKEN or not re.fullmatch(r"[\x21-\x7e]+", token)):
        raise ConfigError(
            f"dashboard.token: must be at least {MIN_TOKEN} printable characters without "
            "spaces (e.g. the output of `openssl rand -hex 16`)"
        )
    public_url = (text("public_url") or "").rstrip("/")
    if public_url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", public_url):
        raise ConfigError(
            f'dashboard.public_url: {public_url!r} is not a URL like "https://snow.example.gov"'
        )
    tiles = text("tiles") or ""
    if tiles and not (
        re.fullmatch(r"https?://[^\s/?#]+/\S*", tiles)
        and all(part in tiles for part in ("{z}", "{x}", "{y}"))
    ):
        raise ConfigError(
            f"dashboard.tiles: {tiles!r} is not a tile URL template with {{z}}, {{x}} and {{y}}, "
            'like "https://tiles.example.gov/{z}/{x}/{y}.png"'
        )
    cache = section.get("photo_cache_mb", 200)
    if not isinstance(cache, int) or isinstance(cache, bool) or not 0 <= cache <= 1_000_000:
        raise ConfigError(
            f"dashboard.photo_cache_mb: {cache!r} must be a whole number of megabytes "
            "from 0 to 1000000 (e.g. 200)"
        )
    return DashboardConfig(
        listen=listen, token=token, public_url=public_url, tiles=tiles, photo_cache_mb=cache
    )
