"""Telegram's signed `initData`: who opened the Mini App (docs/commands.md "The Mini App"), checked
exactly as Telegram's Web App documentation prescribes ("Validating data received via the Mini
App").

The data is a query string. Every field but `hash`, as `key=value` with the value
URL-decoded, sorted by key and joined by line feeds, is the data-check-string;
secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token); the data is genuine when
hex(HMAC_SHA256(key=secret_key, msg=data_check_string)) equals `hash` (compared in
constant time). `auth_date` at most `MAX_AGE` seconds old by the caller's clock.
A pure function: no network, no clock of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

MAX_AGE = 24 * 3600.0  # seconds an initData stays good (Telegram's own advice: a day)
MAX_LENGTH = 8192  # bytes; Telegram's initData is a few hundred
FUTURE_SLACK = 300.0  # a phone's clock a little ahead of ours is not a forgery


@dataclass(frozen=True)
class AppUser:
    """The Telegram user an initData was signed for."""

    id: int
    first_name: str
    last_name: str
    username: str | None
    language_code: str | None
    auth_date: int

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: list[tuple[str, str]]) -> bytes:
    return "\n".join(f"{k}={v}" for k, v in sorted(fields) if k != "hash").encode()


def sign(fields: dict[str, str], bot_token: str) -> str:
    """initData as Telegram makes it: `fields` (values unencoded) with their `hash` added.
    For tests and the benchmark; the bot itself only checks."""
    pairs = sorted(fields.items())
    digest = hmac.new(_secret(bot_token), _check_string(pairs), hashlib.sha256).hexdigest()
    return urlencode([*pairs, ("hash", digest)])


def validate(
    init_data: str, bot_token: str, now: float, max_age: float = MAX_AGE
) -> AppUser | None:
    """The user the initData was signed for by this bot's token, or None: forged, tampered,
    expired, from the future, missing a user, or not initData at all."""
    if not init_data or not bot_token or len(init_data) > MAX_LENGTH:
        return None
    try:
        fields = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    keys = [k for k, _ in fields]
    if len(set(keys)) != len(keys):  # a field given twice: which one was signed?
        return None
    given = dict(fields)
    received = given.get("hash", "")
    expected = hmac.new(_secret(bot_token), _check_string(fields), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(received.encode("utf-8", "replace"), expected.encode()):
        return None
    auth_date = given.get("auth_date", "")
    if not auth_date.isascii() or not auth_date.isdigit():
        return None
    age = now - int(auth_date)
    if age > max_age or age < -FUTURE_SLACK:
        return None
    return _user(given.get("user"), int(auth_date))


def _user(text: str | None, auth_date: int) -> AppUser | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    user_id = data.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        return None
    if data.get("is_bot") is True:
        return None

    def text_of(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) else None

    return AppUser(
        id=user_id,
        first_name=text_of("first_name") or str(user_id),
        last_name=text_of("last_name") or "",
        username=text_of("username"),
        language_code=text_of("language_code"),
        auth_date=auth_date,
    )
