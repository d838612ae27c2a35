"""Shared fixtures: a real SQLite file per test, a settable clock, a small city."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from snowbot.config import Config, parse_config
from snowbot.service import Person, Snowbot
from snowbot.wiring import open_service

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "data" / "heihe_streets.csv"

# A tiny city: two districts, streets a few hundred metres apart.
SMALL_CITY = """district,street,lat,lon
North,Station Road,50.2400,127.5000
North,Station Road East,50.2400,127.5100
North,Market Street,50.2450,127.5000
North,School Lane,50.2500,127.5050
South,River Road,50.2000,127.5000
South,Mill Street,50.2050,127.5050
South,Market Street,50.2100,127.4950
"""


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def city_csv(tmp_path: Path) -> Path:
    path = tmp_path / "city.csv"
    path.write_text(SMALL_CITY, encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Config:
    base = parse_config({"access": {"coordinators": [1]}}, base_dir=tmp_path)
    return replace(base, database=tmp_path / "snowbot.db")


@pytest.fixture
async def bot(config: Config, clock: FakeClock, city_csv: Path) -> AsyncIterator[Snowbot]:
    service = await open_service(config, clock)
    await service.import_streets(city_csv)
    yield service
    await service.close()


async def person(bot: Snowbot, user_id: int, name: str = "") -> Person:
    return await bot.meet(user_id, name or f"user{user_id}", None, None)


# -- the command line, as an operator runs it ----------------------------------------


def snowbot(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "snowbot", *args, "--config", str(tmp_path / "config.toml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=full_env,
        timeout=60,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(
        '[storage]\ndatabase = "city.db"\n[city]\ntimezone = "Asia/Shanghai"\n', "utf-8"
    )
    (tmp_path / "city.csv").write_text(SMALL_CITY, "utf-8")
    return tmp_path
