"""Config: defaults, every key, and one clear line for each kind of mistake."""

from __future__ import annotations

import tomllib
from datetime import time, timedelta
from pathlib import Path

import pytest

from snowbot.settings.config_file import load_config, parse_config
from snowbot.settings.durations import format_duration, parse_duration
from snowbot.settings.errors import ConfigError
from tests.harness import ROOT


def test_the_example_config_is_complete_and_valid() -> None:
    data = tomllib.loads((ROOT / "config.example.toml").read_text("utf-8"))
    config = parse_config(data, base_dir=ROOT)
    assert config.city.timezone.key == "Asia/Shanghai"
    assert config.schedule.tally_every == timedelta(minutes=30)
    assert config.schedule.daily_report_at == time(20, 0)
    assert config.city.gazetteer == ROOT / "data" / "heihe_streets.csv"
    assert config.database == ROOT / "snowbot.db"
    assert config.max_queued_per_person == 50
    assert config.telegram.paid_broadcast is False  # replies first, bulk at the free limit
    # every key the config understands is documented there
    from snowbot.settings.config import KNOWN_KEYS

    for section, keys in KNOWN_KEYS.items():
        assert set(data.get(section, {})) == keys, section


def test_durations() -> None:
    assert parse_duration("45s") == timedelta(seconds=45)
    assert parse_duration("8h") == timedelta(hours=8)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    for bad in ("30x", "", "m", "-5m", "1.5h", "5 m"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_second_scale_schedules_for_trying_it_out(tmp_path: Path) -> None:
    config = parse_config(
        {
            "schedule": {
                "tally_every": "5s",
                "escalate_unaccepted_after": "6s",
                "max_shift": "10s",
                "daily_report_at": "14:03:30",
            }
        },
        base_dir=tmp_path,
    )
    assert config.schedule.tally_every == timedelta(seconds=5)
    assert config.schedule.max_shift == timedelta(seconds=10)
    assert config.schedule.daily_report_at == time(14, 3, 30)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"schedule": {"tally_every": "30x"}},
            "schedule.tally_every: '30x' is not a duration like 45s, 30m or 8h",
        ),
        ({"schedule": {"max_shift": 8}}, "schedule.max_shift: 8 must be a string"),
        ({"schedule": {"tally_every": "0s"}}, "schedule.tally_every: must be at least 1s"),
        ({"schedule": {"daily_report_at": "25:00"}}, "schedule.daily_report_at: '25:00'"),
        ({"schedule": {"daily_report_at": "20:00:61"}}, "schedule.daily_report_at: '20:00:61'"),
        ({"city": {"timezone": "Mars/Olympus"}}, "city.timezone: 'Mars/Olympus' is not an IANA"),
        ({"access": {"coordinators": ["alice"]}}, "access.coordinators: 'alice' is not"),
        ({"access": {"coordinators": 5}}, "access.coordinators: 5 must be a list"),
        ({"bot": {"language": "fr"}}, "bot.language: 'fr' is not one of zh, en"),
        ({"bot": {"max_queued_per_person": 0}}, "bot.max_queued_per_person: 0 is not a whole"),
        ({"bot": {"max_queued_per_person": "50"}}, "bot.max_queued_per_person: '50' is not"),
        ({"bot": {"max_queued_per_person": 2.5}}, "bot.max_queued_per_person: 2.5 is not"),
        ({"bot": {"max_queued_per_person": True}}, "bot.max_queued_per_person: True is not"),
        ({"bot": {"max_queued_per_person": 10_001}}, "bot.max_queued_per_person: 10001 is"),
        ({"geo": {"max_distance_km": -1}}, "geo.max_distance_km: -1"),
        ({"telegram": {"base_url": "ftp://x"}}, "telegram.base_url: 'ftp://x'"),
        ({"telegram": {"paid_broadcast": "yes"}}, "telegram.paid_broadcast: 'yes' is not true"),
        ({"schedule": {"tally_evry": "5m"}}, "schedule.tally_evry: unknown key"),
        ({"shedule": {}}, "shedule: unknown section"),
    ],
)
def test_bad_values_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(data, base_dir=Path("."))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('[telegram]\ntoken = "from-file"\n[storage]\ndatabase = "x.db"\n')
    monkeypatch.setenv("SNOWBOT_CONFIG", str(path))
    monkeypatch.setenv("SNOWBOT_TOKEN", "from-env")
    config = load_config(None)
    assert config.telegram.token == "from-env"
    assert config.database == tmp_path / "x.db"


def test_a_named_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.toml"))


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[schedule\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(path))
