"""`[dashboard]`: where the one-screen overview listens, its token, its link and its tiles.

Kept apart from `snowbot.config` (which reads it through `parse_dashboard`) so that the
overview's settings and their checks stay in one place.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from snowbot.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:8080"
KEYS = {"listen", "token", "public_url", "tiles", "photo_cache_mb"}
TOKEN_ENV = "SNOWBOT_DASHBOARD_TOKEN"
MIN_TOKEN = 16  # a token short enough to guess is no token


@dataclass(frozen=True)
class DashboardConfig:
    listen: str = DEFAULT_LISTEN  # "" turns the overview off
    token: str | None = None
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

    def require_token_off_loopback(self) -> None:
        """`snowbot run` refuses to show the storm to a network without a token."""
        if self.enabled and not self.loopback and not self.token:
            raise ConfigError(
                f"dashboard.token: required when dashboard.listen ({self.listen}) is not a "
                f"loopback address; set it in the config or in {TOKEN_ENV}"
            )


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
