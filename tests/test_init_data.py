"""Telegram's signed initData (SPEC §16): only genuine, fresh data from this bot's token
names a user; forged, expired, missing, tampered or foreign data names nobody."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl, quote, urlencode

from snowbot.service.init_data import MAX_AGE, sign, validate

TOKEN = "123456:ABC-test-token"
NOW = 1_800_000_000.0
USER = json.dumps({"id": 4242, "first_name": "王", "last_name": "芳", "language_code": "zh"})


def fields(**extra: str) -> dict[str, str]:
    return {"auth_date": str(int(NOW) - 60), "query_id": "AAE1", "user": USER, **extra}


def test_the_documented_recipe_by_hand() -> None:
    """Built by hand from Telegram's description, not by `sign`: the two must agree."""
    auth = str(int(NOW) - 10)
    check = f"auth_date={auth}\nquery_id=Q\nuser={USER}"
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    data = f"user={quote(USER)}&query_id=Q&auth_date={auth}&hash={digest}"
    user = validate(data, TOKEN, NOW)
    assert user is not None
    assert (user.id, user.full_name, user.language_code) == (4242, "王 芳", "zh")


def test_genuine_data_names_its_user() -> None:
    user = validate(sign(fields(), TOKEN), TOKEN, NOW)
    assert user is not None and user.id == 4242


def test_wrong_token_is_refused() -> None:
    assert validate(sign(fields(), "999:other"), TOKEN, NOW) is None


def test_forged_hash_is_refused() -> None:
    data = sign(fields(), TOKEN)
    head, _, digest = data.rpartition("hash=")
    forged = head + "hash=" + ("0" if digest[0] != "0" else "1") + digest[1:]
    assert validate(forged, TOKEN, NOW) is None


def test_a_tampered_field_is_refused() -> None:
    data = sign(fields(), TOKEN)
    signed = dict(parse_qsl(data))
    for key, value in (("user", USER.replace("4242", "4243")), ("query_id", "AAE2")):
        assert validate(urlencode({**signed, key: value}), TOKEN, NOW) is None
    assert validate(urlencode(signed), TOKEN, NOW) is not None
    assert validate(data + "&extra=1", TOKEN, NOW) is None  # an unsigned field added


def test_expired_and_future_data_are_refused() -> None:
    old = fields(auth_date=str(int(NOW - MAX_AGE) - 1))
    assert validate(sign(old, TOKEN), TOKEN, NOW) is None
    edge = fields(auth_date=str(int(NOW - MAX_AGE) + 1))
    assert validate(sign(edge, TOKEN), TOKEN, NOW) is not None
    ahead = fields(auth_date=str(int(NOW) + 3600))
    assert validate(sign(ahead, TOKEN), TOKEN, NOW) is None


def test_missing_parts_are_refused() -> None:
    assert validate("", TOKEN, NOW) is None
    no_hash = sign(fields(), TOKEN).rpartition("&hash=")[0]
    assert validate(no_hash, TOKEN, NOW) is None
    no_user = {k: v for k, v in fields().items() if k != "user"}
    assert validate(sign(no_user, TOKEN), TOKEN, NOW) is None
    no_date = {k: v for k, v in fields().items() if k != "auth_date"}
    assert validate(sign(no_date, TOKEN), TOKEN, NOW) is None
    assert validate(sign(fields(), TOKEN), "", NOW) is None


def test_malformed_data_is_refused() -> None:
    for user in ('{"id": "4242"}', '{"id": true}', "[]", "not json", '{"id": -1}'):
        assert validate(sign(fields(user=user), TOKEN), TOKEN, NOW) is None
    bot = json.dumps({"id": 5, "first_name": "b", "is_bot": True})
    assert validate(sign(fields(user=bot), TOKEN), TOKEN, NOW) is None
    data = sign(fields(), TOKEN)
    assert validate(data + "&query_id=AAE1", TOKEN, NOW) is None  # a field given twice
    assert validate("%%%&&==", TOKEN, NOW) is None
    assert validate("a" * 10_000, TOKEN, NOW) is None
    assert validate(sign(fields(auth_date="１７"), TOKEN), TOKEN, NOW) is None
