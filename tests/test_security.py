"""What an attacker tried: formulas in CSV, forged backups, look-alike ids and names,
planted symlinks, world-readable files, one person flooding the bot."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import sqlite3
import stat
import unicodedata
from pathlib import Path

import pytest
from telegram import Chat, Message, Update, User

from handlers.ordering import PerPersonUpdateProcessor
from snowbot.app.wiring import open_service
from snowbot.domain.counts import TaskExportRow
from snowbot.domain.gazetteer import parse_gazetteer_csv, parse_gazetteer_geojson
from snowbot.settings.config import AccessConfig, Config
from snowbot.settings.config_file import load_config
from snowbot.settings.errors import GazetteerError
from snowbot.text.export import export_csvs
from snowbot.tools.standin import SimUser
from tests.harness import bot_config, run_cli, running_bot, said, stand_in

STATION = (50.2401, 127.5001)
COORD = SimUser(1, "Coordinator", "en")


# -- CSV ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "cleared\r=cmd|' /C calc'!A0",
        "cleared\n=cmd|' /C calc'!A0",
        "\t=1+1",
        "＝SUM(A1:A9)",
        "＋1",
        "@SUM(A1)",
        "-2+3",
        "\r=1+1",
    ],
)
def test_no_note_becomes_a_formula_in_any_spreadsheet(note: str) -> None:
    # a unit's name is a cell like any other (a gazetteer could start one with "=")
    task = TaskExportRow(1, "North", "Station Road", 2, 1, "done", 7, 0.0, None, note, note)
    data = export_csvs([], [task], Config().city.timezone)["tasks.csv"].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert len(rows) == 2, rows  # the note stayed in its own row
    # what a spreadsheet would read at the start of each cell
    for cell in rows[1]:
        assert unicodedata.normalize("NFKC", cell[:1]) not in ("=", "+", "-", "@", "\t", "\r")
    for column in ("note", "unit"):
        assert rows[1][rows[0].index(column)].lstrip("'") == note


# names as Telegram hands them over (anything may come first), and what `snowbot export`
# must write for each: kept as text behind an apostrophe, or left alone
FORMULA_NAMES = [
    " =1+1",
    '\u00a0=HYPERLINK("http://x.example","y")',  # no-break space
    "\u200b=1+1",  # zero-width space
    "\v=1+1",  # vertical tab
    "\t=1+1",
    "\r\n=1+1",
    "\u3000＝SUM(A1:A9)",  # ideographic space, full-width equals sign
    "\u2003+1",  # em space
    "\ufeff@SUM(A1)",  # byte-order mark
    "\u2060-2+3",  # word joiner
    "\u202e=1",  # right-to-left override
    " \u200b\u00a0\u2028 =cmd|' /C calc'!A0",  # several, and a line separator
    "\x1f=1",  # a control character
    "\u180e=1",  # Mongolian vowel separator
    "\u00ad=1",  # soft hyphen
    "\tZhao",  # a leading tab or line break is suspect whatever follows, as before
    "\nZhao",
]
HARMLESS_NAMES = ["Zhao", " Li Wei", "\u00a0王芳", "\u200b张伟", "\u3000a=b"]


async def test_snowbot_export_keeps_every_formula_after_invisible_characters_as_text(
    workdir: Path,
) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    config = Config(database=workdir / "city.db", access=AccessConfig(enrolment="open"))
    bot = await open_service(config)
    try:
        names = FORMULA_NAMES + HARMLESS_NAMES
        for uid, name in enumerate(names, start=100):
            await bot.check_in(await bot.meet(uid, name, None, None), *STATION)
    finally:
        await bot.close()
    assert run_cli(workdir, "export", "--out", "out").returncode == 0
    data = (workdir / "out" / "shifts.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    written = {int(row["user_id"]): row["name"] for row in rows}
    for uid, name in enumerate(names, start=100):
        expected = "'" + name if name in FORMULA_NAMES else name
        assert written[uid] == expected, (name, written[uid])


# -- restore ------------------------------------------------------------------------------


async def _bot_with_turnout(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    # open enrolment: the turnout here is the point, not who may make it
    config = Config(database=workdir / "city.db", access=AccessConfig(enrolment="open"))
    bot = await open_service(config)
    try:
        for uid in (10, 11):
            await bot.check_in(await bot.meet(uid, f"c{uid}", None, None), *STATION)
    finally:
        await bot.close()


def _person_times(workdir: Path) -> int:
    done = run_cli(workdir, "tally", "--json")
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)["person_times"])


async def test_a_backup_with_a_trigger_is_refused(workdir: Path) -> None:
    await _bot_with_turnout(workdir)
    assert run_cli(workdir, "backup", "evil.db").returncode == 0
    with sqlite3.connect(workdir / "evil.db") as evil:
        evil.execute(
            "CREATE TRIGGER inflate AFTER INSERT ON shifts BEGIN "
            "UPDATE shifts SET headcount = 1000 WHERE id = NEW.id; END"
        )
    evil.close()
    refused = run_cli(workdir, "restore", "evil.db")
    assert refused.returncode != 0 and "trigger inflate" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert _person_times(workdir) == 2 and not list(workdir.glob("city.db.before-restore-*"))


async def test_a_backup_with_the_right_names_and_no_columns_is_refused_at_once(
    workdir: Path,
) -> None:
    await _bot_with_turnout(workdir)
    with sqlite3.connect(workdir / "hollow.db") as hollow:
        for table in ("incidents", "users", "districts", "streets", "shifts", "tasks"):
            hollow.execute(f"CREATE TABLE {table} (x)")
        hollow.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)")
        hollow.execute("INSERT INTO schema_version VALUES (5)")
    hollow.close()
    refused = run_cli(workdir, "restore", "hollow.db")
    assert refused.returncode != 0 and "not the schema snowbot makes" in refused.stderr
    assert _person_times(workdir) == 2


async def test_a_restore_replays_and_sends_nothing_that_waited_in_the_backup(
    workdir: Path,
) -> None:
    await _bot_with_turnout(workdir)
    # names that break a hand-built file: URI
    name = "bk#1%41.db"
    assert run_cli(workdir, "backup", name).returncode == 0
    with sqlite3.connect(workdir / name) as forged:
        update = {"update_id": 999, "message": {"text": "/grant 666 coordinator"}}
        forged.execute(
            "INSERT INTO inbox (update_id, body, received_at) VALUES (?, ?, 0)",
            (999, json.dumps(update)),
        )
        forged.execute(
            "INSERT INTO outbox (key, chat_id, lang, text, created_at, due_at) "
            "VALUES ('forged', 666, 'en', 'hello', 0, 0)"
        )
    forged.close()
    restored = run_cli(workdir, "restore", name)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(workdir / "city.db") as db:
        assert db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    db.close()
    assert _person_times(workdir) == 2


async def test_a_backup_edited_to_make_a_coordinator_restores_a_dispatcher_at_most(
    workdir: Path,
) -> None:
    with (workdir / "config.toml").open("a", encoding="utf-8") as config:
        config.write('[access]\ncoordinators = [1]\nenrolment = "invite"\n')
    await _bot_with_turnout(workdir)
    assert run_cli(workdir, "backup", "edited.db").returncode == 0
    with sqlite3.connect(workdir / "edited.db") as edited:  # 10 is a cadre; 70 a stranger
        edited.execute("UPDATE users SET role = 'coordinator' WHERE id = 10")
        edited.execute(
            "INSERT INTO users (id, name, language, role, member, registered, created_at) "
            "VALUES (70, 'Stranger', 'en', 'coordinator', 1, 1, 0)"
        )
    edited.close()
    restored = run_cli(workdir, "restore", "edited.db")
    assert restored.returncode == 0, restored.stderr
    config = load_config(str(workdir / "config.toml"))
    async with stand_in() as api, running_bot(bot_config(config, api, None)):
        for user, lang in ((SimUser(10, "c10"), "zh"), (SimUser(70, "Stranger", "en"), "en")):
            dispatcher = said("role.dispatcher", lang)
            whoami = await api.ask(user, "/whoami")
            assert whoami.text == said("whoami.person", lang, id=user.id, role=dispatcher)
            coordinator_only = said("refuse.role", lang, role=said("role.coordinator", lang))
            for text in ("/grant 71 dispatcher", "/incident", "/export"):
                assert (await api.ask(user, text)).text == coordinator_only, text


# -- files ----------------------------------------------------------------------------------


def test_what_snowbot_writes_is_readable_by_its_owner_only(workdir: Path) -> None:
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    assert run_cli(workdir, "backup", "copy.db").returncode == 0
    (workdir / "out").mkdir()
    target = workdir / "elsewhere.txt"
    target.write_text("keep me", "utf-8")
    (workdir / "out" / "shifts.csv").symlink_to(target)  # planted
    assert run_cli(workdir, "export", "--out", "out").returncode == 0
    assert target.read_text("utf-8") == "keep me"
    assert not (workdir / "out" / "shifts.csv").is_symlink()
    for path in ("city.db", "copy.db", "out/shifts.csv", "out/tasks.csv"):
        mode = stat.S_IMODE((workdir / path).stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
    # a symlink planted where the backup is to go is refused, not followed
    (workdir / "planted.db").symlink_to(workdir / "nowhere.db")
    planted = run_cli(workdir, "backup", "planted.db")
    assert planted.returncode != 0 and "already exists" in planted.stderr
    assert not (workdir / "nowhere.db").exists()


def test_a_config_others_can_read_with_the_token_in_it_is_warned_about(workdir: Path) -> None:
    config = workdir / "config.toml"
    config.write_text(
        '[telegram]\ntoken = "123:SECRET-config"\n[storage]\ndatabase = "city.db"\n', "utf-8"
    )
    config.chmod(0o644)
    assert run_cli(workdir, "import-streets", "city.csv").returncode == 0
    result = run_cli(workdir, "tally")
    assert "can read it: chmod 600" in result.stderr and "SECRET" not in result.stderr
    config.chmod(0o600)
    assert "chmod 600" not in run_cli(workdir, "tally").stderr


PG = "postgresql://snow{}@127.0.0.1:1/snow{}"  # nothing listens there: the command fails


@pytest.mark.parametrize(
    ("tables", "what"),
    [
        ({"telegram": {"token": "123:hunter2tok"}}, "the bot token"),
        ({"storage": {"database": PG.format(":hunter2db", "")}}, "the database password"),
        ({"storage": {"database": PG.format("", "?password=hunter2db")}}, "the database password"),
        ({"telegram": {"webhook_secret": "hunter2webhook"}}, "the webhook secret"),
        ({"dashboard": {"token": "hunter2-dashboard-token"}}, "the overview's token"),
        (
            {"telegram": {"proxy": "socks5://me:hunter2proxy@127.0.0.1:1080"}},
            "the proxy's password",
        ),
        ({"storage": {"database": PG.format("", "")}}, None),  # no password: nothing to hide
        ({"telegram": {"token": ""}, "dashboard": {"token": ""}}, None),
    ],
)
def test_a_config_others_can_read_with_any_secret_in_it_is_warned_about(
    workdir: Path, tables: dict[str, dict[str, str]], what: str | None
) -> None:
    config = workdir / "config.toml"
    tables = {"storage": {"database": "city.db"}, **tables}
    config.write_text(
        "".join(
            f"[{name}]\n" + "".join(f'{key} = "{value}"\n' for key, value in table.items())
            for name, table in tables.items()
        ),
        "utf-8",
    )
    config.chmod(0o644)
    result = run_cli(workdir, "tally")
    assert "hunter2" not in result.stderr + result.stdout
    if what is None:
        assert "chmod 600" not in result.stderr
        return
    assert f"holds {what}, and other users of this machine can read it: chmod 600" in (
        result.stderr
    )
    config.chmod(0o600)
    assert "chmod 600" not in run_cli(workdir, "tally").stderr


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("street", "reason"),
    [
        ("Station\u202eRoad", "direction or invisible"),
        ("Station\u200bRoad", "direction or invisible"),
        ("St\u0430tion Road", "look-alike CYRILLIC"),  # a Cyrillic а
        ("Station\x07Road", "control"),
    ],
)
def test_street_names_that_show_one_thing_and_are_another_are_refused(
    street: str, reason: str
) -> None:
    with pytest.raises(GazetteerError) as refused:
        parse_gazetteer_csv(f"district,street,lat,lon\nNorth,{street},50.2,127.5\n".encode())
    assert "line 2" in str(refused.value) and reason in str(refused.value)


def test_names_are_kept_in_their_normal_form() -> None:
    rows = parse_gazetteer_csv(
        "district,street,lat,lon\nＮorth,Ｓtation Road,50.2,127.5\n".encode()
    )
    assert (rows[0].district, rows[0].name) == ("North", "Station Road")


@pytest.mark.parametrize("word", ["all", "ALL", "全市", "全部"])
def test_no_district_may_be_called_the_whole_city(word: str) -> None:
    with pytest.raises(GazetteerError) as refused:
        parse_gazetteer_csv(f"district,street,lat,lon\n{word},Main Street,50.2,127.5\n".encode())
    assert "whole city" in str(refused.value)


def test_geojson_nested_too_deep_or_too_long_is_refused_in_one_line() -> None:
    with pytest.raises(GazetteerError) as deep:
        parse_gazetteer_geojson(b"[" * 100_000 + b"]" * 100_000)
    assert "nested too deeply" in str(deep.value)
    line = [[127.0 + i * 1e-6, 50.0] for i in range(20_001)]
    feature = {
        "type": "Feature",
        "properties": {"name": "Long Road", "district": "North"},
        "geometry": {"type": "LineString", "coordinates": line},
    }
    with pytest.raises(GazetteerError) as long:
        parse_gazetteer_geojson(
            json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
        )
    assert "features[0]" in str(long.value) and "20,000 positions" in str(long.value)


# -- chat -------------------------------------------------------------------------------------


async def test_user_ids_are_ascii_digits_and_export_is_private(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        api.group(-100900, "Everyone")
        for text in ("/grant ² dispatcher", "/grant ١٢٣ dispatcher", "/revoke ١٢٣"):
            answer = await api.ask(COORD, text)
            assert answer.text.startswith("Usage:"), (text, answer.text)
        assert await running.service.person(123) is None
        before = len(api.documents)
        refused = await api.ask(COORD, "/export", chat_id=-100900)
        assert refused.text == "Please do that in a private chat with me."
        await asyncio.sleep(0.3)
        assert len(api.documents) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_suggestions_still_find_a_misspelt_street(config: Config, city_csv: Path) -> None:
    bot = await open_service(config)
    try:
        await bot.import_streets(city_csv)
        assert [s.name for s in bot.directory.suggest("Statoin Raod")][:2] == [
            "Station Road",
            "Station Road East",
        ]
        assert bot.directory.suggest("Mil Stret")[0].name == "Mill Street"
    finally:
        await bot.close()


# -- one person's flood ---------------------------------------------------------------------


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    chat = Chat(user_id, "private")
    message = Message(update_id, None, chat, from_user=user, text="📍")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_persons_flood_holds_one_place_and_delays_nobody_else() -> None:
    processor = PerPersonUpdateProcessor(max_concurrent_updates=2)
    release = asyncio.Event()
    started: list[int] = []

    async def work(update_id: int) -> None:
        started.append(update_id)
        if update_id < 100:
            await release.wait()

    flood = [
        asyncio.create_task(processor.process_update(_update(i, 7), work(i))) for i in range(50)
    ]
    await asyncio.sleep(0.05)
    other = asyncio.create_task(processor.process_update(_update(100, 8), work(100)))
    await asyncio.wait_for(other, 2)  # not behind the flood
    assert started == [0, 100]  # the flood's second waits for its first, in order
    release.set()
    await asyncio.wait_for(asyncio.gather(*flood), 5)
    assert started[2:] == list(range(1, 50))
