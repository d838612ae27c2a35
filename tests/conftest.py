"""Shared fixtures: a real database per test (a SQLite file; in modules marked
`both_engines` also a PostgreSQL database, tests/engines.py), a settable clock, a small city.

Helpers the tests import live in `tests/harness.py`, not here.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import aiosqlite
import pytest

from snowbot.service import Snowbot
from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from tests.engines import ENGINES, Databases, need_postgres, with_database
from tests.harness import SMALL_CITY, FakeClock, opened_bot


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_engines: run each test with a database on SQLite and on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_engines"):
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The test's storage engine: sqlite, or each in turn in a `both_engines` module."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def databases(engine: str, tmp_path: Path) -> Iterator[Databases]:
    made = Databases(engine, tmp_path)
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture
def new_database(databases: Databases) -> Callable[..., Path | str]:
    """`new_database(name)`: a fresh, empty database of the test's engine (its address)."""
    return databases.new


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def city_csv(tmp_path: Path) -> Path:
    path = tmp_path / "city.csv"
    path.write_text(SMALL_CITY, encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path, new_database: Callable[..., Path | str]) -> Config:
    # open enrolment, as in v1: these tests are about counting, not who may count
    # (tests/test_enrolment.py is)
    base = parse_config({"access": {"coordinators": [1], "enrolment": "open"}}, base_dir=tmp_path)
    return with_database(
        replace(base, database=tmp_path / "snowbot.db"), new_database("snowbot.db")
    )


@pytest.fixture
async def bot(config: Config, clock: FakeClock, city_csv: Path) -> AsyncIterator[Snowbot]:
    async with opened_bot(config, clock, city_csv) as service:
        yield service


@pytest.fixture
def workdir(tmp_path: Path, new_database: Callable[..., Path | str]) -> Path:
    """A folder as an operator keeps it: config.toml (database city.db, or a PostgreSQL
    URL in a `both_engines` module's PostgreSQL run) and city.csv."""
    address = new_database("city.db")
    database = "city.db" if isinstance(address, Path) else address
    (tmp_path / "config.toml").write_text(
        f'[storage]\ndatabase = "{database}"\n[city]\ntimezone = "Asia/Shanghai"\n', "utf-8"
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


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[str]:
    """An empty PostgreSQL database for the benchmark's PostgreSQL figures, dropped after."""
    need_postgres()
    databases = Databases("postgres", tmp_path)
    try:
        url = databases.new()
        assert isinstance(url, str)
        yield url
    finally:
        databases.drop()
