"""The first lines `snowbot run` logs name the engine and the database, a PostgreSQL
password hidden (SPEC §12): with several processes and two engines, an operator reading a
log knows at once which database the bot runs on."""

from __future__ import annotations

from pathlib import Path

from tests.engines import Databases, need_postgres
from tests.harness import run_cli

PASSWORD = "s3cret-Pw"


def _first_lines(tmp_path: Path, database: str) -> list[str]:
    """`snowbot run` against a Telegram that cannot be reached: it stops at once, having
    said where its database is."""
    (tmp_path / "config.toml").write_text(
        '[telegram]\ntoken = "123:abc"\nbase_url = "http://127.0.0.1:9/bot"\n'
        f'[storage]\ndatabase = "{database}"\n[dashboard]\nlisten = ""\n',
        "utf-8",
    )
    ran = run_cli(tmp_path, "run")
    assert ran.returncode != 0 and "cannot reach" in ran.stderr, ran.stderr
    assert PASSWORD not in ran.stderr + ran.stdout
    return [line for line in ran.stderr.splitlines() if " INFO " in line][:2]


def test_run_names_sqlite_and_its_file_first(tmp_path: Path) -> None:
    lines = _first_lines(tmp_path, "city.db")
    assert lines[0].endswith(f"database: SQLite {tmp_path / 'city.db'}"), lines


def test_run_names_postgresql_and_its_url_without_the_password_first(tmp_path: Path) -> None:
    need_postgres()
    databases = Databases("postgres", tmp_path)
    try:
        url = databases.new()
        assert isinstance(url, str) and "@" in url
        user, rest = url.removeprefix("postgresql://").split("@", 1)
        lines = _first_lines(tmp_path, f"postgresql://{user}:{PASSWORD}@{rest}")
        assert lines[0].endswith(f"database: PostgreSQL postgresql://{user}:***@{rest}"), lines
    finally:
        databases.drop()
