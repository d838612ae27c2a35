"""The secrets a config file holds in itself (rather than in the environment): a file
that holds any of them should be readable by its owner only (docs/security.md)."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from snowbot.settings.redact import hide_password

# what each secret is, and the environment variable that can hold it instead
Secret = tuple[str, str | None]
TOKEN: Secret = ("the bot token", "SNOWBOT_TOKEN")
DATABASE_PASSWORD: Secret = ("the database password", "SNOWBOT_DATABASE")
WEBHOOK_SECRET: Secret = ("the webhook secret", "SNOWBOT_WEBHOOK_SECRET")
DASHBOARD_TOKEN: Secret = ("the overview's token", "SNOWBOT_DASHBOARD_TOKEN")
PROXY_PASSWORD: Secret = ("the proxy's password", None)


def secrets_in(data: Mapping[str, Any]) -> list[Secret]:
    """The secrets written in a parsed config file: (what, its environment variable)."""

    def given(section: str, key: str) -> str:
        table = data.get(section)
        value = table.get(key) if isinstance(table, Mapping) else None
        return value.strip() if isinstance(value, str) else ""

    found: list[Secret] = []
    if given("telegram", "token"):
        found.append(TOKEN)
    if _has_password(given("storage", "database")):
        found.append(DATABASE_PASSWORD)
    if given("telegram", "webhook_secret"):
        found.append(WEBHOOK_SECRET)
    if given("dashboard", "token"):
        found.append(DASHBOARD_TOKEN)
    if _has_password(given("telegram", "proxy")):
        found.append(PROXY_PASSWORD)
    return found


def _has_password(url: str) -> bool:
    """A URL with a password in it (`user:password@`, or `?password=` for PostgreSQL)."""
    if not url or "://" not in url:
        return False
    try:
        in_netloc = bool(urlsplit(url).password)
    except ValueError:  # a malformed URL: what the redaction hides is what counts
        in_netloc = False
    return in_netloc or hide_password(url) != url


def readable_secrets(path: Path) -> list[Secret]:
    """The secrets in the config file at `path` when users other than its owner can read
    it; [] when they cannot, or it holds none (or cannot be read: that is said elsewhere)."""
    try:
        if not stat.S_IMODE(path.stat().st_mode) & 0o077:
            return []
        return secrets_in(tomllib.loads(path.read_text("utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []


def secrets_warning(path: Path, found: list[Secret]) -> str:
    """One line for the operator: what the file holds and how to keep it to its owner."""
    names = [name for name, _ in found]
    what = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    envs = [env for _, env in found if env]
    instead = f" (or give {'it' if len(found) == 1 else 'them'} in {', '.join(envs)})"
    return (
        f"{path} holds {what}, and other users of this machine can read it: "
        f"chmod 600 {path}{instead if envs else ''}"
    )
