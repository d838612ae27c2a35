"""`snowbot copy-db` moves a city in real use (SPEC §12): the demo's storm database, with
its bound groups (negative ids), goes SQLite -> PostgreSQL -> SQLite and keeps every count
and export; what the source had waiting (a planted update, an unsent message, a closing
report owed) is settled on the target, never replayed; a source with a trigger or a view
is refused as `restore` refuses a backup; and a copy that fails leaves the target empty.

The storm is the demo's small one: the seed-scale storm takes ten minutes and more on two
cores (a day of it took 100 s), far beyond a test's minute; the small one has every kind
of row the seed one has (groups, units, residents' reports, teams, places, the outbox).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from snowbot.domain.stores import Store
from snowbot.settings.config import Config
from snowbot.tools import demo
from snowbot.tools.demo.cast import COORDINATOR
from storage.copy import rows_in
from tests.engines import Databases, need_postgres, raw
from tests.harness import FakeClock, opened_bot, run_cli
from tests.test_copy_db import _a_storm
from tests.test_demo import _unlimited
from tests.test_webhook_many import _text_update

STRANGER = 424_242  # whom the planted update would make a dispatcher
EXPORTS = ("shifts.csv", "tasks.csv", "reports.csv")


async def _demo_database(folder: Path, config: Config, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo's storm, played through the real bot, and its database kept."""
    folder.mkdir()
    monkeypatch.setattr(
        demo.tempfile, "TemporaryDirectory", lambda **_: contextlib.nullcontext(str(folder))
    )
    await demo.play_storm(config, scale="small", quiet=True, start_bot=_unlimited())
    return folder / "demo.db"


def _plant(database: Path) -> None:
    """What a database in use has waiting: an update not yet handled (a coordinator
    granting a stranger), a message not yet sent, and an ended incident's closing report
    not yet queued."""
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        body = _text_update(9_999_999, COORDINATOR, f"/grant {STRANGER} dispatcher")
        db.execute(
            "INSERT INTO inbox (update_id, body, received_at, person) VALUES (?, ?, 1.0, ?)",
            (9_999_999, body, COORDINATOR.id),
        )
        db.execute(
            "INSERT INTO outbox (key, chat_id, lang, text, created_at, due_at) "
            "VALUES ('planted', ?, 'zh', 'never to be sent', 1.0, 1.0)",
            (COORDINATOR.id,),
        )
        (ended,) = db.execute(
            "INSERT INTO incidents (name, started_at, ended_at) VALUES ('old storm', 1.0, 2.0) "
            "RETURNING id"
        ).fetchone()
        db.execute(
            "INSERT INTO closing_reports (incident_id, closed_by) VALUES (?, ?)",
            (ended, COORDINATOR.id),
        )


def _waiting(database: Path | str) -> tuple[int, int, int, int]:
    """(updates kept, messages waiting, closing reports owed, the stranger's roles)."""
    with raw(database) as db:
        return tuple(  # type: ignore[return-value]
            int(db.execute(sql).fetchone()[0])
            for sql in (
                "SELECT COUNT(*) FROM inbox",
                "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
                "SELECT COUNT(*) FROM closing_reports WHERE queued_at IS NULL",
                f"SELECT COUNT(*) FROM users WHERE id = {STRANGER}",
            )
        )


def _cli(tmp_path: Path, database: Path | str, *args: str) -> str:
    (tmp_path / "config.toml").write_text(f'[storage]\ndatabase = "{database}"\n', "utf-8")
    done = run_cli(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _exported(tmp_path: Path, database: Path | str, name: str) -> dict[str, bytes]:
    out = tmp_path / f"export-{name}"
    _cli(tmp_path, database, "export", "--out", str(out))
    return {file: (out / file).read_bytes() for file in EXPORTS}


def _rows(database: Path | str) -> int:
    """Rows in every snowbot table of the database (none, before it has them)."""
    return sum(rows_in(database).values())


@pytest.mark.timeout(240)
async def test_the_demos_city_goes_to_postgresql_and_back_with_every_count_and_export(
    tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_postgres()
    source = await _demo_database(tmp_path / "demo", config, monkeypatch)
    _plant(source)
    with raw(source) as db:
        (groups,) = db.execute("SELECT COUNT(*) FROM bindings WHERE chat_id < 0").fetchone()
    assert groups > 0, "the demo binds its groups"
    assert _waiting(source) != (0, 0, 0, 0)
    databases = Databases("postgres", tmp_path)
    try:
        server = databases.new()
        assert isinstance(server, str)
        back = tmp_path / "back.db"
        (tmp_path / "config.toml").write_text("", "utf-8")
        for origin, target in ((source, server), (server, back)):
            copied = run_cli(tmp_path, "copy-db", str(origin), str(target))
            assert copied.returncode == 0, copied.stderr
            assert "both tallies agree" in copied.stdout
        tallies = [_cli(tmp_path, where, "tally", "--json") for where in (source, server, back)]
        assert tallies[0] == tallies[1] == tallies[2]
        assert json.loads(tallies[0])["person_times"] > 0
        exports = [_exported(tmp_path, where, n) for n, where in enumerate((source, server, back))]
        assert exports[0] == exports[1] == exports[2]
        assert b"\n" in exports[0]["shifts.csv"].strip()
        for where in (server, back):
            # nothing to replay: no update, no message, no closing report; no stranger
            assert _waiting(where) == (0, 0, 0, 0), where
            with raw(where) as db:
                (copied_groups,) = db.execute(
                    "SELECT COUNT(*) FROM bindings WHERE chat_id < 0"
                ).fetchone()
            assert copied_groups == groups
        with raw(server) as db:
            # the sequences go on after the highest id; groups' negative ids number nothing
            (top,) = db.execute("SELECT MAX(id) FROM shifts").fetchone()
            (following,) = db.execute(
                "SELECT nextval(pg_get_serial_sequence('shifts', 'id'))"
            ).fetchone()
            assert following == top + 1
            (first,) = db.execute(
                "SELECT nextval(pg_get_serial_sequence('bindings', 'chat_id'))"
            ).fetchone()
            assert first == 1
    finally:
        databases.drop()


def _refused(tmp_path: Path, source: Path | str, target: Path | str, *words: str) -> None:
    (tmp_path / "config.toml").write_text("", "utf-8")
    result = run_cli(tmp_path, "copy-db", str(source), str(target))
    assert result.returncode != 0, result.stdout
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("planted", "named"),
    [
        (
            "CREATE TRIGGER promote AFTER INSERT ON shifts "
            "BEGIN UPDATE users SET role = 'coordinator'; END",
            "trigger promote",
        ),
        ("CREATE VIEW everyone AS SELECT id FROM users", "view everyone"),
    ],
)
async def test_a_sqlite_source_with_a_trigger_or_a_view_is_refused(
    tmp_path: Path, config: Config, clock: FakeClock, city_csv: Path, planted: str, named: str
) -> None:
    need_postgres()
    source = tmp_path / "storm.db"
    await _a_storm(replace(config, database=source, database_url=""), clock, city_csv)
    with contextlib.closing(sqlite3.connect(source)) as db:
        db.execute(planted)
    databases = Databases("postgres", tmp_path)
    try:
        server = databases.new()
        _refused(tmp_path, source, server, named, "refused")
        assert _rows(server) == 0
        _refused(tmp_path, source, tmp_path / "back.db", named)
        assert not (tmp_path / "back.db").exists()
    finally:
        databases.drop()


@pytest.mark.parametrize(
    ("planted", "named"),
    [
        (
            "CREATE FUNCTION promote() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN UPDATE users SET role = 'coordinator'; RETURN NEW; END $$; "
            "CREATE TRIGGER promote AFTER INSERT ON shifts "
            "FOR EACH ROW EXECUTE FUNCTION promote()",
            "trigger shifts.promote",
        ),
        ("CREATE VIEW everyone AS SELECT id FROM users", "view everyone"),
        ("DROP INDEX incidents_one_current", "lacks index incidents_one_current"),
    ],
)
async def test_a_postgresql_source_not_exactly_snowbots_schema_is_refused(
    tmp_path: Path, config: Config, clock: FakeClock, city_csv: Path, planted: str, named: str
) -> None:
    need_postgres()
    source = tmp_path / "storm.db"
    await _a_storm(replace(config, database=source, database_url=""), clock, city_csv)
    databases = Databases("postgres", tmp_path)
    try:
        server = databases.new()
        (tmp_path / "config.toml").write_text("", "utf-8")
        assert run_cli(tmp_path, "copy-db", str(source), str(server)).returncode == 0
        with raw(server) as db:
            db.script(planted)
        back = tmp_path / "back.db"
        _refused(tmp_path, server, back, named, "refused")
        assert not back.exists()
    finally:
        databases.drop()


async def test_a_copy_that_fails_half_way_leaves_the_target_empty(
    tmp_path: Path, config: Config, clock: FakeClock, city_csv: Path
) -> None:
    """A name with a NUL character: SQLite keeps it, PostgreSQL refuses it, rows later."""
    need_postgres()
    source = tmp_path / "storm.db"
    here = replace(config, database=source, database_url="")
    await _a_storm(here, clock, city_csv)
    async with opened_bot(here, clock, city_csv) as bot:
        store: Store = bot.store
        await store.register_user(777, "nul\x00name", None, "en", clock())
    databases = Databases("postgres", tmp_path)
    try:
        server = databases.new()
        _refused(tmp_path, source, server, "copy-db")
        assert _rows(server) == 0
        # and, emptied, it takes a copy once the source is mended
        with contextlib.closing(sqlite3.connect(source)) as db, db:
            db.execute("UPDATE users SET name = 'mended' WHERE id = 777")
        (tmp_path / "config.toml").write_text("", "utf-8")
        assert run_cli(tmp_path, "copy-db", str(source), str(server)).returncode == 0
    finally:
        databases.drop()
