"""Units (单位包保, SPEC §9) through the gazetteer, the service, the tally, the CSVs, the
reports and the command line; the chat is in test_units_chat, the property in
test_units_property."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from snowbot.domain.counts import DayCounts
from snowbot.domain.gazetteer import parse_gazetteer_csv, parse_gazetteer_geojson
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service import Snowbot
from snowbot.settings.errors import GazetteerError
from snowbot.text.render import render_day, render_unserved
from snowbot.text.render_units import render_units
from snowbot.text.texts import catalog
from tests.engines import NewDatabase, raw, unmigrated_store
from tests.harness import RIVER, STATION, FakeClock, opened_store, person, recount, run_cli

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

# the small city with its units: Station Road and Market Street (North) are the Roads
# Bureau's, River Road the Water Company's; the others have none
UNIT_CITY = """district,street,lat,lon,unit
North,Station Road,50.2400,127.5000,Roads Bureau
North,Station Road East,50.2400,127.5100,
North,Market Street,50.2450,127.5000,Roads Bureau
North,School Lane,50.2500,127.5050,
South,River Road,50.2000,127.5000,Water Company
South,Mill Street,50.2050,127.5050,
South,Market Street,50.2100,127.4950,
"""


@pytest.fixture
def unit_csv(tmp_path: Path) -> Path:
    path = tmp_path / "units.csv"
    path.write_text(UNIT_CITY, "utf-8")
    return path


async def units_of(bot: Snowbot) -> dict[str, tuple[int, int, int, int, int]]:
    """unit -> (person-times, on duty, people, streets, unserved), as the tally has them."""
    tally = await bot.tally()
    return {
        u.unit: (u.person_times, u.on_duty, u.people, u.streets_total, u.streets_unserved)
        for u in tally.units
    }


# -- the gazetteer ------------------------------------------------------------------------


def test_the_fifth_column_names_each_streets_unit() -> None:
    rows = parse_gazetteer_csv(UNIT_CITY.encode())
    assert [r.unit for r in rows][:3] == ["Roads Bureau", "", "Roads Bureau"]
    # without the column a file says nothing about units: None, "leave them as they are"
    four = parse_gazetteer_csv(b"district,street,lat,lon\nNorth,Station Road,50.24,127.5\n")
    assert four[0].unit is None
    # names are kept as street names are: NFKC, spacing evened out
    wide = parse_gazetteer_csv(
        "district,street,lat,lon,unit\nN,S,50,127, Ｒｏａｄｓ  Bureau \n".encode()
    )
    assert wide[0].unit == "Roads Bureau"


@pytest.mark.parametrize(
    ("unit", "line", "reason"),
    [
        ("R" * 101, 9, "unit name longer than 100 characters"),
        ("Roads\u202eBureau", 9, "unit name has control, direction or invisible characters"),
        ("Roads\u200bBureau", 9, "unit name has control, direction or invisible characters"),
        # a quoted line break: the row ends on the file's next line, which is named
        ('"Roads\nBureau"', 10, "unit name has control, direction or invisible characters"),
    ],
)
def test_a_bad_unit_name_refuses_the_file_with_its_line(unit: str, line: int, reason: str) -> None:
    body = UNIT_CITY + f"South,New Road,50.21,127.5,{unit}\n"
    with pytest.raises(GazetteerError) as refused:
        parse_gazetteer_csv(body.encode())
    assert f"line {line}: {reason}" in str(refused.value)
    # one character less is fine: the limit is 100
    ok = UNIT_CITY + f"South,New Road,50.21,127.5,{'R' * 100}\n"
    assert parse_gazetteer_csv(ok.encode())[-1].unit == "R" * 100


def _feature(name: str, district: str, lon: float, **properties: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"name": name, "district": district, **properties},
        "geometry": {"type": "LineString", "coordinates": [[lon, 50.24], [lon + 0.01, 50.24]]},
    }


def _collection(*features: dict[str, object]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_geojson_gives_units_in_the_unit_property() -> None:
    rows = parse_gazetteer_geojson(
        _collection(
            _feature("Station Road", "North", 127.50, unit="Roads Bureau"),
            _feature("Station Road", "North", 127.51),  # another way of the same street
            _feature("Mill Street", "South", 127.52),
        )
    )
    assert {r.name: r.unit for r in rows} == {"Station Road": "Roads Bureau", "Mill Street": ""}
    plain = parse_gazetteer_geojson(_collection(_feature("Mill Street", "South", 127.5)))
    assert plain[0].unit is None  # no unit anywhere: the file says nothing about units


@pytest.mark.parametrize(
    ("features", "reason"),
    [
        (
            [
                _feature("Station Road", "North", 127.50, unit="Roads Bureau"),
                _feature("Station Road", "North", 127.51, unit="Water Company"),
            ],
            "features[1]: unit 'Water Company' differs from 'Roads Bureau' of features[0]",
        ),
        ([_feature("Station Road", "North", 127.5, unit=12)], "features[0]: properties.unit"),
        (
            [_feature("Station Road", "North", 127.5, unit="Roads\x07")],
            "features[0]: unit name has control",
        ),
    ],
)
def test_bad_units_in_geojson_name_the_feature(
    features: list[dict[str, object]], reason: str
) -> None:
    with pytest.raises(GazetteerError) as refused:
        parse_gazetteer_geojson(_collection(*features))
    assert reason in str(refused.value)


async def test_reimport_changes_nothing_and_a_changed_unit_is_counted(
    bot: Snowbot, unit_csv: Path, tmp_path: Path
) -> None:
    first = await bot.import_streets(unit_csv)
    # the fixture's city had no units: three streets get one, two units are made
    assert (first.added, first.moved, first.reassigned, first.units_added) == (0, 0, 3, 2)
    again = await bot.import_streets(unit_csv)
    assert (again.added, again.moved, again.unchanged, again.reassigned, again.units_added) == (
        0,
        0,
        7,
        0,
        0,
    )
    moved = tmp_path / "moved.csv"
    moved.write_text(
        UNIT_CITY.replace(
            "Market Street,50.2450,127.5000,Roads Bureau",
            "Market Street,50.2450,127.5000,Parks Office",
        )
        .replace("School Lane,50.2500,127.5050,", "School Lane,50.2500,127.5050,Parks Office")
        .replace("River Road,50.2000,127.5000,Water Company", "River Road,50.2000,127.5000,"),
        "utf-8",
    )
    changed = await bot.import_streets(moved)
    assert (changed.reassigned, changed.units_added, changed.unchanged) == (3, 1, 4)
    assert {
        s.name: s.unit_id is not None for s in bot.directory.streets if s.district == "South"
    } == {
        "River Road": False,
        "Mill Street": False,
        "Market Street": False,
    }
    units = await units_of(bot)
    assert units["Parks Office"][3] == 2 and units["Roads Bureau"][3] == 1
    assert units["Water Company"][3] == 0  # a unit stays, with no street now
    # a file without the column leaves every street's unit as it is
    plain = tmp_path / "plain.csv"
    plain.write_text("district,street,lat,lon\nNorth,Station Road,50.2400,127.5000\n", "utf-8")
    untouched = await bot.import_streets(plain)
    assert (untouched.reassigned, untouched.unchanged) == (0, 1)
    assert (await units_of(bot))["Roads Bureau"][3] == 1


async def test_names_differing_only_in_case_and_width_are_one_unit(
    bot: Snowbot, tmp_path: Path
) -> None:
    path = tmp_path / "case.csv"
    path.write_text(
        "district,street,lat,lon,unit\nNorth,Station Road,50.24,127.5,Roads Bureau\n"
        "North,School Lane,50.25,127.505,ROADS  bureau\n",
        "utf-8",
    )
    counts = await bot.import_streets(path)
    assert counts.units_added == 1
    assert [u.name for u in await bot.units()] == ["Roads Bureau"]


# -- joining, and what a shift carries ------------------------------------------------------


async def test_a_shift_counts_for_the_unit_of_its_check_in(
    bot: Snowbot, unit_csv: Path, clock: FakeClock
) -> None:
    await bot.import_streets(unit_csv)
    cadre, loner, leader = [await person(bot, uid) for uid in (10, 11, 12)]
    joined = await bot.join_unit_named(cadre, "roads bureau")
    assert joined.name == "Roads Bureau"
    await bot.check_in(cadre, *STATION)
    await bot.check_in(loner, *RIVER)  # no unit: counts in the total, under no unit
    await bot.join_unit_named(leader, "Water")  # the one unit beginning so
    await bot.ask_check_in(leader, 20)
    await bot.check_in(leader, *RIVER)
    units = await units_of(bot)
    assert units["Roads Bureau"][:3] == (1, 1, 1)
    assert units["Water Company"][:3] == (20, 20, 1)
    tally = await bot.tally()
    assert tally.no_unit is not None
    assert (tally.no_unit.person_times, tally.no_unit.on_duty, tally.no_unit.people) == (1, 1, 1)
    assert tally.person_times == 22 == recount(bot.config.address)["person_times"]

    # joining another unit moves no turnout: the open shift stays the old unit's
    await bot.join_unit_named(cadre, "Water Company")
    clock.advance(600)
    out = await bot.check_out(cadre)
    assert out.shift.headcount == 1
    units = await units_of(bot)
    assert units["Roads Bureau"][:3] == (1, 0, 1)
    assert units["Water Company"][:3] == (20, 20, 1)
    # back within rejoin_window: the old shift reopens, still the old unit's, nothing new
    clock.advance(60)
    await bot.check_in(cadre, *STATION)
    assert (await units_of(bot))["Roads Bureau"][:3] == (1, 1, 1)
    # a new shift after the window counts for the unit of now
    await bot.check_out(cadre)
    clock.advance(bot.config.schedule.rejoin_window.total_seconds() + 1)
    await bot.check_in(cadre, *STATION)
    units = await units_of(bot)
    assert units["Roads Bureau"][:3] == (1, 0, 1)
    assert units["Water Company"][:3] == (21, 21, 2)
    # and once more for the same unit: more person-times, the same people
    await bot.check_out(cadre)
    clock.advance(bot.config.schedule.rejoin_window.total_seconds() + 1)
    await bot.check_in(cadre, *STATION)
    assert (await units_of(bot))["Water Company"][:3] == (22, 21, 2)
    csv_rows = list(
        csv.DictReader(io.StringIO((await bot.export())["shifts.csv"].decode("utf-8-sig")))
    )
    assert [(r["user_id"], r["unit"]) for r in csv_rows] == [
        ("10", "Roads Bureau"),
        ("11", ""),
        ("12", "Water Company"),
        ("10", "Water Company"),
        ("10", "Water Company"),
    ]


async def test_unknown_and_ambiguous_names_get_suggestions(bot: Snowbot, tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text(
        "district,street,lat,lon,unit\n"
        "North,Station Road,50.24,127.5,城管局\nNorth,School Lane,50.25,127.505,城管执法大队\n"
        "South,River Road,50.20,127.5,供电公司\n",
        "utf-8",
    )
    await bot.import_streets(path)
    cadre = await person(bot, 10)
    with pytest.raises(Refused) as ambiguous:
        await bot.join_unit_named(cadre, "城管")
    assert ambiguous.value.key == "unit.ambiguous"
    assert ambiguous.value.params["units"] == ["城管局", "城管执法大队"]
    with pytest.raises(Refused) as unknown:
        await bot.join_unit_named(cadre, "供电局")
    assert unknown.value.key == "unit.unknown" and unknown.value.params["units"] == ["供电公司"]
    with pytest.raises(Refused) as nothing:
        await bot.join_unit_named(cadre, "zzz")
    assert nothing.value.key == "unit.unknown_none"
    # the exact name wins over a longer one beginning with it
    assert (await bot.join_unit_named(cadre, "城管局")).name == "城管局"
    assert (await bot.unit_choice(cadre)).current is not None


async def test_who_may_create_and_join_units(bot: Snowbot) -> None:
    coordinator, cadre = await person(bot, 1), await person(bot, 10)
    with pytest.raises(Refused) as none_yet:
        await bot.join_unit_named(cadre, "Roads")
    assert none_yet.value.key == "unit.no_units"
    with pytest.raises(Refused) as not_allowed:
        await bot.unit_words(cadre, ["add", "Roads", "Bureau"])
    assert not_allowed.value.key == "refuse.role"
    assert not_allowed.value.params == {"role": Role.COORDINATOR}
    dispatcher = await person(bot, 50)
    await bot.grant(coordinator, 50, Role.DISPATCHER, None)
    dispatcher = await person(bot, 50)
    with pytest.raises(Refused) as still_not:
        await bot.add_unit(dispatcher, "Roads Bureau")
    assert still_not.value.key == "refuse.role"
    assert await bot.units() == []

    made, created = await bot.unit_words(coordinator, ["新增", "Roads", "Bureau"])
    assert created and made.name == "Roads Bureau"
    for text, key in (
        ("roads  BUREAU", "unit.exists"),
        ("", "unit.add_usage"),
        ("   ", "unit.add_usage"),
        ("R" * 101, "refuse.too_long"),
        ("Roads\tBureau", "unit.bad_name"),
        ("Roads\u202eBureau", "unit.bad_name"),
    ):
        with pytest.raises(Refused) as refused:
            await bot.add_unit(coordinator, text)
        assert refused.value.key == key, text
    assert [u.name for u in await bot.units()] == ["Roads Bureau"]
    assert (await bot.add_unit(coordinator, "R" * 100)).name == "R" * 100

    guest_bot_person = await person(bot, 99)
    joined = await bot.join_unit(guest_bot_person, made.id)
    assert joined == made
    with pytest.raises(Refused) as gone:
        await bot.join_unit(guest_bot_person, 999)
    assert gone.value.key == "unit.gone"


# -- the tally, the reports, the export ----------------------------------------------------


async def test_the_tally_names_units_and_each_unserved_streets_unit(
    bot: Snowbot, unit_csv: Path
) -> None:
    await bot.import_streets(unit_csv)
    data = (await bot.tally()).as_json()
    assert [u["unit"] for u in data["units"]] == ["Roads Bureau", "Water Company"]
    assert data["units"][0] == {
        "unit": "Roads Bureau",
        "person_times": 0,
        "on_duty": 0,
        "people": 0,
        "streets_total": 2,
        "streets_unserved": 2,
    }
    by_street = {(u["district"], u["street"]): u["unit"] for u in data["unserved_streets"]}
    assert by_street[("North", "Station Road")] == "Roads Bureau"
    assert by_street[("South", "Market Street")] is None
    assert data["no_unit"] == {"person_times": 0, "on_duty": 0, "people": 0}

    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 50, Role.DISPATCHER, None)
    boss, cadre = await person(bot, 50), await person(bot, 10)
    task = (await bot.post_task(boss, ["Station", "Road"])).task
    await bot.check_in(cadre, *STATION)
    await bot.accept(cadre, task.id)
    await bot.complete(cadre, task.id)
    tally = await bot.tally()
    roads = next(u for u in tally.units if u.unit == "Roads Bureau")
    assert (roads.streets_total, roads.streets_unserved) == (2, 1)

    en = catalog("en")
    unserved = render_unserved(en, tally)
    assert "• Market Street (Roads Bureau)" in unserved
    assert "• River Road (Water Company)" in unserved
    assert "• Mill Street\n" in unserved  # no unit: the street alone
    tasks_csv = (await bot.export())["tasks.csv"].decode("utf-8-sig")
    assert next(csv.DictReader(io.StringIO(tasks_csv)))["unit"] == "Roads Bureau"


async def test_units_page_by_turnout_and_the_day_names_each_unit(
    bot: Snowbot, tmp_path: Path
) -> None:
    path = tmp_path / "units.csv"
    lines = ["district,street,lat,lon,unit"]
    lines += [f"North,Street {k},50.24,{127.5 + k / 1000},Unit {k:02d}" for k in range(45)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    await bot.import_streets(path)
    for uid, unit in ((10, "Unit 07"), (11, "Unit 07"), (12, "Unit 30")):
        cadre = await person(bot, uid)
        await bot.join_unit_named(cadre, unit)
        await bot.check_in(cadre, 50.24, 127.5 + int(unit[-2:]) / 1000)
    tally = await bot.tally()
    en = catalog("en")
    first = render_units(en, tally, 0)
    assert (first.page, first.pages) == (0, 3)
    lines_shown = first.text.splitlines()
    assert lines_shown[1].startswith("1. Unit 07 — 2 person-times, on duty 2, people 2")
    assert lines_shown[2].startswith("2. Unit 30 — 1 person-times")
    assert lines_shown[3].startswith("3. Unit 00 — 0 person-times")  # then by name
    assert "Page 1/3" in first.text
    last = render_units(en, tally, 99)  # past the end: the last page
    assert last.page == 2 and last.text.count("\n45. ") + last.text.startswith("45. ") == 1
    assert "No unit: 0 person-times" in last.text and "All together: 3 person-times" in last.text

    day = DayCounts(3, 0, 0, "North", 3, units=[("Unit 07", 2), ("Unit 30", 1)])
    summary = render_day(en, tally, day, 0.0, 86_400.0, bot.config.city.timezone)
    assert "• Unit 07: 2 person-times; 1 of its streets not cleared: Street 7" in summary
    assert "…and 33 more units" in summary  # 45 units with streets, 12 named
    assert "• No unit: 0 person-times" in summary


async def test_the_day_counts_turnout_by_the_units_of_that_day(
    bot: Snowbot, unit_csv: Path, clock: FakeClock
) -> None:
    await bot.import_streets(unit_csv)
    cadre, other = await person(bot, 10), await person(bot, 11)
    await bot.join_unit_named(cadre, "Roads Bureau")
    since = clock()
    await bot.check_in(cadre, *STATION)
    await bot.check_in(other, *RIVER)
    day = await bot.day_counts(since, clock() + 1)
    assert day.units == [("Roads Bureau", 1)] and day.person_times == 2


# -- an older database, and the command line ------------------------------------------------


async def test_shifts_from_before_units_count_under_no_unit(new_database: NewDatabase) -> None:
    path = new_database("old.db")
    old = await unmigrated_store(path)
    try:
        await old.migrate(target=7)  # the last release before units
        for sql in (
            "INSERT INTO districts (id, name) VALUES (1, 'North')",
            "INSERT INTO streets (id, district_id, name, lat, lon) VALUES (1, 1, 'S', 50, 127)",
            "INSERT INTO incidents (id, name, started_at) VALUES (1, 'old', 1.0)",
            "INSERT INTO users (id, name, registered, created_at) VALUES (10, 'Zhao', 1, 1.0)",
            "INSERT INTO users (id, name, registered, created_at) VALUES (11, 'Qian', 1, 1.0)",
            "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, "
            "lat, lon, started_at) VALUES (1, 10, 5, 1, 1, 50, 127, 100.0)",
            "INSERT INTO shifts (incident_id, user_id, headcount, district_id, street_id, "
            "lat, lon, started_at, ended_at) VALUES (1, 11, 1, 1, 1, 50, 127, 100.0, 200.0)",
        ):
            with raw(path) as db:
                db.execute(sql)
                if isinstance(path, Path):
                    db.commit()
    finally:
        await old.close()
    async with opened_store(path) as store:
        incident = await store.current_incident("ignored", 2.0)
        counts = await store.tally_counts(incident)
        assert counts.no_unit is not None
        no_unit = counts.no_unit
        assert (no_unit.person_times, no_unit.on_duty, no_unit.people) == (6, 5, 2)
        # and a shift of then, closed now, leaves the no-unit counters consistent
        assert await store.check_out(1, 10, 300.0) is not None
        after = (await store.tally_counts(incident)).no_unit
        assert after is not None and (after.person_times, after.on_duty) == (6, 0)
        # one of those people turning out again is no new person
        street = (await store.streets())[0]
        await store.check_in(1, 11, 1, street, 50.0, 127.0, 10_000.0, 9_000.0)
        again = (await store.tally_counts(incident)).no_unit
        assert again is not None and (again.person_times, again.people) == (7, 2)


def test_the_command_line_imports_units_and_tallies_them(workdir: Path) -> None:
    (workdir / "units.csv").write_text(UNIT_CITY, "utf-8")
    first = run_cli(workdir, "import-streets", "units.csv")
    assert first.returncode == 0, first.stderr
    assert "7 added" in first.stdout and "2 new units" in first.stdout
    again = run_cli(workdir, "import-streets", "units.csv")
    assert "0 added, 0 moved, 7 unchanged; 7 streets" in again.stdout
    (workdir / "changed.csv").write_text(
        UNIT_CITY.replace("River Road,50.2000,127.5000,Water Company", "River Road,50.2,127.5,"),
        "utf-8",
    )
    changed = run_cli(workdir, "import-streets", "changed.csv")
    assert "1 changed unit, 0 new units" in changed.stdout, changed.stdout
    bad = run_cli(workdir, "import-streets", "bad.csv")
    assert bad.returncode == 2
    (workdir / "bad.csv").write_text(UNIT_CITY + "South,X,50.2,127.5,\x01Roads\n", "utf-8")
    bad = run_cli(workdir, "import-streets", "bad.csv")
    assert bad.returncode == 2 and "line 9: unit name has control" in bad.stderr
    data = json.loads(run_cli(workdir, "tally", "--json").stdout)
    assert [u["unit"] for u in data["units"]] == ["Roads Bureau", "Water Company"]
    assert data["units"][1]["streets_total"] == 0
    assert all("unit" in s for s in data["unserved_streets"])
    export = run_cli(workdir, "export", "--out", "out")
    assert export.returncode == 0, export.stderr
    header = (workdir / "out" / "shifts.csv").read_text("utf-8-sig").splitlines()[0]
    assert header.endswith(",ended_at,placed,unit")
