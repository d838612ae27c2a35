"""Shared fixtures: a real SQLite file per test, a settable clock, a small city.

Helpers the tests import live in `tests/harness.py`, not here.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiosqlite
import pytest

from snowbot.config import Config, parse_config
from snowbot.service import Snowbot
from tests.harness import SMALL_CITY, FakeClock, opened_bot


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
    # open enrolment, as in v1: these tests are about counting, not who may count
    # (tests/test_enrolment.py is)
    base = parse_config({"access": {"coordinators": [1], "enrolment": "open"}}, base_dir=tmp_path)
    return replace(base, database=tmp_path / "snowbot.db")


@pytest.fixture
async def bot(config: Config, clock: FakeClock, city_csv: Path) -> AsyncIterator[Snowbot]:
    async with opened_bot(config, clock, city_csv) as service:
        yield service


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder as an operator keeps it: config.toml (database city.db) and city.csv."""
    (tmp_path / "config.toml").write_text(
        '[storage]\ndatabase = "city.db"\n[city]\ntimezone = "Asia/Shanghai"\n', "utf-8"
    )
    (tmp_path / "city.csv").write_text(SMALL_CITY, "utf-8")
    return tmp_path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A safety net under the try/finally of every fixture: a database a failed test left
    open has a live aiosqlite thread, which would keep the process from exiting (pytest
    prints "1 failed" and hangs). Stop every such thread so the run ends with its result."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obj in gc.get_objects():
            if isinstance(obj, aiosqlite.Connection):
                obj.stop()
