"""The operator's config file (TOML), validated into typed settings.

Every key (docs/operators.md "Running it for real") has a default here and a line in
config.example.toml. A bad value raises ConfigError naming the key, e.g.
"schedule.tally_every: '30x' is not a duration like 45s, 30m or 8h".
(Over 400 lines: one small parser per section; `[dashboard]` already lives apart, in
`snowbot.settings.dashboard_config`, and the next section to grow should too.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from snowbot.domain.boundary import Boundary, BoundaryError, read_boundary
from snowbot.settings.dashboard_config import KEYS as DASHBOARD_KEYS
from snowbot.settings.dashboard_config import DashboardConfig
from snowbot.settings.doors import KEYS as HTTP_KEYS
from snowbot.settings.doors import DoorsConfig
from snowbot.settings.errors import ConfigError
from snowbot.settings.redact import hide_password


@dataclass(frozen=True)
class TelegramConfig:
    token: str | None = None
    base_url: str = "https://api.telegram.org/bot"
    # for the Bot API and the geocoder: Telegram cannot be reached directly everywhere
    proxy: str | None = None
    # `snowbot run --webhook`: the secret Telegram sends with each update (else one is made)
    webhook_secret: str | None = None
    # bulk notices may use Telegram's paid broadcasts (up to 1000 messages/s, paid in Stars)
    paid_broadcast: bool = False


@dataclass(frozen=True)
class CityConfig:
    name: str = "Heihe"
    name_zh: str = "黑河"  # how Chinese texts name the city
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    gazetteer: Path | None = None
    district_property: str = "district"  # in a GeoJSON gazetteer
    # a position outside it is no place in the city (docs/commands.md "Chinese as people type it");
    # None: max_distance_km alone
    boundary: Boundary | None = None

    def display_name(self, language: str) -> str:
        """The city's name as texts in `language` give it."""
        return self.name_zh if language == "zh" else self.name


@dataclass(frozen=True)
class ScheduleConfig:
    report_chats: tuple[int, ...] = ()
    tally_every: timedelta = timedelta(minutes=30)
    daily_report_at: time = time(20, 0)
    escalate_unaccepted_after: timedelta = timedelta(minutes=30)
    max_shift: timedelta = timedelta(hours=8)
    rejoin_window: timedelta = timedelta(minutes=30)
    # a six-day storm (docs/commands.md "The scheduler"): escalations back off and stop, and keep
    # quiet
    escalate_max: int = 4  # re-announcements of one task at most, after 1, 2, 4 … periods
    quiet_hours: tuple[time, time] | None = None  # (from, until) city time; may span midnight


@dataclass(frozen=True)
class AccessConfig:
    """Who counts (docs/security.md): enrolment, and the limits on check-ins."""

    enrolment: str = "invite"  # "invite": /start makes a guest; "open": a cadre, as in v1
    max_team_unconfirmed: int = 30  # larger teams count once a dispatcher confirms them
    max_checkins_per_hour: int = 4  # new shifts per person (rejoins and moves excepted)

    @property
    def open(self) -> bool:
        return self.enrolment == "open"


@dataclass(frozen=True)
class GeoConfig:
    max_distance_km: float = 15.0
    done_radius_m: float = 1000.0
    geocoder: str = ""  # "" (off) or "nominatim"
    user_agent: str = ""  # Nominatim's usage policy asks every application to name itself
    geocoder_domain: str = "nominatim.openstreetmap.org"
    geocoder_timeout: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class ResidentsConfig:
    """Residents' reports (群众求助)."""

    task_needed: int = 2  # people asked for by a task made from a report (Make task)


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: Path = Path("snowbot.db")
    city: CityConfig = field(default_factory=CityConfig)
    coordinators: frozenset[int] = frozenset()
    language: str = "zh"
    # a person's updates kept and not yet handled, at most; beyond, they are dropped
    max_queued_per_person: int = 50
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    geo: GeoConfig = field(default_factory=GeoConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    source: Path | None = None
    residents: ResidentsConfig = field(default_factory=ResidentsConfig)
    dashboard: DashboardConfig = field(default_factory=DashboardConfig)
    http: DoorsConfig = field(default_factory=DoorsConfig)  # both HTTP ports' limits
    # a PostgreSQL URL from [storage] database (or SNOWBOT_DATABASE): used instead of the file
    database_url: str = ""

    @property
    def address(self) -> Path | str:
        """The database to open: the PostgreSQL URL, else the SQLite file."""
        return self.database_url or self.database

    @property
    def database_name(self) -> str:
        """The database as it may be printed: a URL without its password."""
        return hide_password(self.database_url) if self.database_url else str(self.database)

    @property
    def database_line(self) -> str:
        """The engine and the database, as the first lines of the log name them."""
        if self.database_url:
            return f"database: PostgreSQL {self.database_name}"
        return f"database: SQLite {self.database}"

    def require_token(self) -> str:
        """The bot token, or a ConfigError saying where to put it."""
        if not self.telegram.token:
            raise ConfigError(
                "telegram.token: missing; set it in the config or in the SNOWBOT_TOKEN variable"
            )
        return self.telegram.token


# -- reading -----------------------------------------------------------------

KNOWN_KEYS: dict[str, set[str]] = {
    "telegram": {"token", "base_url", "proxy", "webhook_secret", "paid_broadcast"},
    "storage": {"database"},
    "city": {"name", "name_zh", "timezone", "gazetteer", "district_property", "boundary"},
    "access": {"coordinators", "enrolment", "max_team_unconfirmed", "max_checkins_per_hour"},
    "bot": {"language", "max_queued_per_person"},
    "schedule": {
        "report_chats",
        "tally_every",
        "daily_report_at",
        "escalate_unaccepted_after",
        "max_shift",
        "rejoin_window",
        "escalate_max",
        "quiet_hours",
    },
    "geo": {
        "max_distance_km",
        "done_radius_m",
        "geocoder",
        "user_agent",
        "geocoder_domain",
        "geocoder_timeout",
    },
    "residents": {"task_needed"},
    "dashboard": DASHBOARD_KEYS,
    "http": HTTP_KEYS,
}


def _boundary(base_dir: Path, name: str | None) -> Boundary | None:
    """`[city] boundary`: the GeoJSON polygon read now, so a bad one stops the start."""
    if not name:
        return None
    try:
        return read_boundary(base_dir / name)
    except BoundaryError as exc:
        raise ConfigError(f"city.boundary: {exc}") from None
