"""Reading the operator's config file (TOML): every key checked, refused whole with one
line naming the key, into the records of `snowbot.settings.config`."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from snowbot.domain.limits import MAX_NEEDED
from snowbot.settings.config import (
    KNOWN_KEYS,
    AccessConfig,
    CityConfig,
    Config,
    GeoConfig,
    ResidentsConfig,
    ScheduleConfig,
    TelegramConfig,
    _boundary,
)
from snowbot.settings.dashboard_config import parse_dashboard
from snowbot.settings.doors import parse_doors
from snowbot.settings.durations import parse_duration
from snowbot.settings.errors import ConfigError
from snowbot.settings.webhook import check_secret

DEFAULT_CONFIG = "config.toml"
LANGUAGES = ("zh", "en")
# The shortest schedule durations accepted: operators test with second-scale values.
MIN_SCHEDULE_SECONDS = 1

T = TypeVar("T")


PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
# a [storage] database beginning so is a PostgreSQL database, not a file
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


GEOCODERS = ("", "nominatim")
ENROLMENTS = ("invite", "open")


def config_path(explicit: str | None) -> tuple[Path, bool]:
    """Which file to read, and whether the operator named it (then it must exist)."""
    if explicit:
        return Path(explicit), True
    env = os.environ.get("SNOWBOT_CONFIG")
    if env:
        return Path(env), True
    return Path(DEFAULT_CONFIG), False


def load_config(explicit: str | None = None) -> Config:
    """Read the config named on the command line, by SNOWBOT_CONFIG, or ./config.toml.

    A missing ./config.toml means all defaults; a missing named file is an error.
    """
    path, named = config_path(explicit)
    if not path.exists():
        if named:
            raise ConfigError(f"{path}: config file not found")
        return parse_config({}, base_dir=Path.cwd(), env=os.environ)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    config = parse_config(data, base_dir=path.resolve().parent, env=os.environ)
    return replace(config, source=path)


def parse_config(
    data: Mapping[str, Any], *, base_dir: Path, env: Mapping[str, str] | None = None
) -> Config:
    """Validate a parsed TOML document; relative paths are taken from base_dir."""
    env = env or {}
    for section, value in data.items():
        if section not in KNOWN_KEYS:
            raise ConfigError(
                f"{section}: unknown section (known: {', '.join(sorted(KNOWN_KEYS))})"
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{section}: must be a table like [{section}]")
        for key in value:
            if key not in KNOWN_KEYS[section]:
                known = ", ".join(sorted(KNOWN_KEYS[section]))
                raise ConfigError(f"{section}.{key}: unknown key (known: {known})")

    def get(section: str, key: str) -> Any:
        return data.get(section, {}).get(key)

    token = env.get("SNOWBOT_TOKEN") or _opt_str(get("telegram", "token"), "telegram.token")
    base_url = _opt_str(get("telegram", "base_url"), "telegram.base_url")
    if base_url is not None and not re.match(r"^https?://\S+$", base_url):
        raise ConfigError(f"telegram.base_url: {base_url!r} is not an http(s) URL")
    proxy = _proxy(_opt_str(get("telegram", "proxy"), "telegram.proxy"))
    secret = env.get("SNOWBOT_WEBHOOK_SECRET") or _opt_str(
        get("telegram", "webhook_secret"), "telegram.webhook_secret"
    )
    telegram = TelegramConfig(
        token=token or None,
        base_url=base_url or TelegramConfig.base_url,
        proxy=proxy,
        webhook_secret=check_secret(secret, "telegram.webhook_secret") if secret else None,
        paid_broadcast=_flag(get("telegram", "paid_broadcast"), "telegram.paid_broadcast"),
    )

    database = env.get("SNOWBOT_DATABASE") or _opt_str(
        get("storage", "database"), "storage.database"
    )
    if database == "":
        raise ConfigError("storage.database: must name a file")
    database_url = database if database and database.startswith(POSTGRES_SCHEMES) else ""
    db_path = base_dir / ("snowbot.db" if database_url else (database or "snowbot.db"))

    tz_name = _opt_str(get("city", "timezone"), "city.timezone") or "Asia/Shanghai"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"city.timezone: {tz_name!r} is not an IANA time zone like Asia/Shanghai"
        ) from None
    gazetteer = _opt_str(get("city", "gazetteer"), "city.gazetteer")
    name = _opt_str(get("city", "name"), "city.name")
    name_zh = _opt_str(get("city", "name_zh"), "city.name_zh")
    city = CityConfig(
        name=name or CityConfig.name,
        # a city named only once is named so in every language
        name_zh=name_zh or name or CityConfig.name_zh,
        timezone=tz,
        gazetteer=(base_dir / gazetteer) if gazetteer else None,
        district_property=_opt_str(get("city", "district_property"), "city.district_property")
        or CityConfig.district_property,
        boundary=_boundary(base_dir, _opt_str(get("city", "boundary"), "city.boundary")),
    )

    coordinators = _int_list(get("access", "coordinators"), "access.coordinators")
    language = _opt_str(get("bot", "language"), "bot.language") or "zh"
    if language not in LANGUAGES:
        raise ConfigError(f"bot.language: {language!r} is not one of {', '.join(LANGUAGES)}")

    defaults = ScheduleConfig()
    schedule = ScheduleConfig(
        report_chats=tuple(_int_list(get("schedule", "report_chats"), "schedule.report_chats")),
        tally_every=_duration(
            get("schedule", "tally_every"), "schedule.tally_every", defaults.tally_every
        ),
        daily_report_at=_clock(
            get("schedule", "daily_report_at"), "schedule.daily_report_at", defaults.daily_report_at
        ),
        escalate_unaccepted_after=_duration(
            get("schedule", "escalate_unaccepted_after"),
            "schedule.escalate_unaccepted_after",
            defaults.escalate_unaccepted_after,
        ),
        max_shift=_duration(get("schedule", "max_shift"), "schedule.max_shift", defaults.max_shift),
        rejoin_window=_duration(
            get("schedule", "rejoin_window"),
            "schedule.rejoin_window",
            defaults.rejoin_window,
            minimum=0,
        ),
        escalate_max=_escalate_max(get("schedule", "escalate_max"), defaults.escalate_max),
        quiet_hours=_quiet_hours(get("schedule", "quiet_hours")),
    )

    geo = _geo(get)
    return Config(
        access=_access(get),
        telegram=telegram,
        database=db_path,
        database_url=database_url,
        city=city,
        coordinators=frozenset(coordinators),
        language=language,
        max_queued_per_person=_max_queued(get("bot", "max_queued_per_person")),
        schedule=schedule,
        geo=geo,
        residents=_residents(get),
        dashboard=parse_dashboard(data.get("dashboard", {}), env),
        http=parse_doors(data.get("http", {})),
    )


MAX_QUEUED = 10_000  # more waiting updates of one person is a flood by any measure


def _max_queued(value: Any) -> int:
    if value is None:
        return Config.max_queued_per_person
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUEUED:
        raise ConfigError(
            f"bot.max_queued_per_person: {value!r} is not a whole number from 1 to {MAX_QUEUED}"
        )
    return value


MAX_ESCALATIONS = 30  # 2**30 periods: more would never come due in any storm


def _escalate_max(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ESCALATIONS:
        raise ConfigError(
            f"schedule.escalate_max: {value!r} is not a whole number from 0 (never) "
            f"to {MAX_ESCALATIONS}"
        )
    return value


_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"


def _quiet_hours(value: Any) -> tuple[time, time] | None:
    """ "23:00-06:00" (city time; seconds allowed for trying it out), or "" for none."""
    key = "schedule.quiet_hours"
    text = _opt_str(value, key)
    if text is None or not text.strip():
        return None
    match = re.fullmatch(rf"\s*({_CLOCK})\s*[-–]\s*({_CLOCK})\s*", text)
    if match is None:
        raise ConfigError(f'{key}: {text!r} is not a span of the clock like "23:00-06:00"')
    start, end = (_clock(part, key, time()) for part in match.groups())
    if start == end:
        raise ConfigError(f"{key}: {text!r} starts and ends at the same time")
    return start, end


def _flag(value: object, where: str) -> bool:
    """A true/false key; absent is false."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {value!r} is not true or false")
    return value


def _proxy(value: str | None) -> str | None:
    if not value:
        return None
    match = re.fullmatch(r"([a-z0-9]+)://(?:[^@/\s]+@)?[^@/\s:]+(:\d{1,5})?/?", value.strip())
    if match is None or match.group(1) not in PROXY_SCHEMES:
        raise ConfigError(
            f"telegram.proxy: not a proxy address like socks5://127.0.0.1:1080 or "
            f"http://proxy.example:3128 (schemes: {', '.join(PROXY_SCHEMES)})"
        )
    return value.strip()


def _geo(get: Callable[[str, str], Any]) -> GeoConfig:
    defaults = GeoConfig()
    max_km = _positive(get("geo", "max_distance_km"), "geo.max_distance_km", "km", 20000)
    radius = _positive(get("geo", "done_radius_m"), "geo.done_radius_m", "m", 20_000_000)
    geocoder = _opt_str(get("geo", "geocoder"), "geo.geocoder") or ""
    if geocoder not in GEOCODERS:
        raise ConfigError(f'geo.geocoder: {geocoder!r} is not "" (off) or "nominatim"')
    user_agent = (_opt_str(get("geo", "user_agent"), "geo.user_agent") or "").strip()
    if geocoder and not user_agent:
        raise ConfigError(
            'geo.user_agent: required with a geocoder; name your deployment, e.g. "snowbot-heihe"'
        )
    domain = _opt_str(get("geo", "geocoder_domain"), "geo.geocoder_domain")
    if domain is not None and not re.fullmatch(r"(https?://)?[A-Za-z0-9.-]+(:\d+)?(/\S*)?", domain):
        raise ConfigError(f"geo.geocoder_domain: {domain!r} is not a host name like example.org")
    return GeoConfig(
        max_distance_km=max_km if max_km is not None else defaults.max_distance_km,
        done_radius_m=radius if radius is not None else defaults.done_radius_m,
        geocoder=geocoder,
        user_agent=user_agent,
        geocoder_domain=domain or defaults.geocoder_domain,
        geocoder_timeout=_duration(
            get("geo", "geocoder_timeout"), "geo.geocoder_timeout", defaults.geocoder_timeout
        ),
    )


def _access(get: Callable[[str, str], Any]) -> AccessConfig:
    defaults = AccessConfig()
    enrolment = _opt_str(get("access", "enrolment"), "access.enrolment") or defaults.enrolment
    if enrolment not in ENROLMENTS:
        raise ConfigError(f'access.enrolment: {enrolment!r} is not "invite" or "open"')
    return AccessConfig(
        enrolment=enrolment,
        max_team_unconfirmed=_count(
            get("access", "max_team_unconfirmed"),
            "access.max_team_unconfirmed",
            defaults.max_team_unconfirmed,
        ),
        max_checkins_per_hour=_count(
            get("access", "max_checkins_per_hour"),
            "access.max_checkins_per_hour",
            defaults.max_checkins_per_hour,
        ),
    )


def _residents(get: Callable[[str, str], Any]) -> ResidentsConfig:
    needed = _count(
        get("residents", "task_needed"), "residents.task_needed", ResidentsConfig.task_needed
    )
    if needed > MAX_NEEDED:  # a task never asks for more (snowbot.domain.limits)
        raise ConfigError(f"residents.task_needed: {needed} is more than {MAX_NEEDED}")
    return ResidentsConfig(task_needed=needed)


def _count(value: Any, key: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
        raise ConfigError(f"{key}: {value!r} is not a whole number from 1 to 1000000")
    return value


def _positive(value: Any, key: str, unit: str, most: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= most:
        raise ConfigError(f"{key}: {value!r} is not a distance in {unit} above 0")
    return float(value)


def _opt_str(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{key}: {value!r} must be a string in quotes")
    return value


def _int_list(value: Any, key: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{key}: {value!r} must be a list of Telegram ids like [123456789]")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int):
            raise ConfigError(f"{key}: {item!r} is not a Telegram id (a whole number)")
    return list(value)


def _duration(
    value: Any, key: str, default: timedelta, minimum: int = MIN_SCHEDULE_SECONDS
) -> timedelta:
    return _parsed(value, key, default, lambda text: _bounded(parse_duration(text), minimum))


def _bounded(delta: timedelta, minimum: int) -> timedelta:
    if delta.total_seconds() < minimum:
        raise ValueError(f"must be at least {minimum}s")
    return delta


def _clock(value: Any, key: str, default: time) -> time:
    def parse(text: str) -> time:
        # seconds are allowed so that operators can try the daily report a moment ahead
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?", text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a time of day like 20:00")
        return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))

    return _parsed(value, key, default, parse)


def _parsed(value: Any, key: str, default: T, parse: Callable[[str], T]) -> T:
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(f'{key}: {value!r} must be a string in quotes, like "30m"')
    try:
        return parse(value)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None
