"""Which street is this person at: the index against a plain geodesic scan, lines, GeoJSON."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from snowbot.domain.gazetteer import parse_gazetteer_geojson, read_gazetteer
from snowbot.domain.geo import StreetIndex, midpoint
from snowbot.domain.model import Street
from snowbot.domain.refusals import Refused
from snowbot.service import Snowbot
from snowbot.settings.errors import GazetteerError
from snowbot.tools.bench import random_city
from tests.harness import ROOT, person, waiting


def street(i: int, lat: float, lon: float, name: str = "") -> Street:
    return Street(i, 1, "D", name or f"s{i}", lat, lon)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_index_agrees_with_a_plain_geodesic_scan(seed: int) -> None:
    streets, lines = random_city(800, seed)
    index = StreetIndex(streets, lines)
    south, west = min(s.lat for s in streets), min(s.lon for s in streets)
    north, east = max(s.lat for s in streets), max(s.lon for s in streets)
    rng = random.Random(seed + 100)
    for _ in range(150):
        lat, lon = rng.uniform(south - 0.02, north + 0.02), rng.uniform(west - 0.02, east + 0.02)
        fast, slow = index.nearest(lat, lon, 15), index.scan(lat, lon)
        assert fast is not None and slow is not None
        assert fast.street.id == slow.street.id
        assert fast.km == pytest.approx(slow.km, abs=1e-9)


def test_far_away_the_distance_is_still_to_the_nearest_street() -> None:
    streets, lines = random_city(300, 7)
    index = StreetIndex(streets, lines)
    for lat, lon in ((50.6, 127.5), (-49.8, 126.8), (49.8, -126.8), (10.0, 10.0)):
        fast, slow = index.nearest(lat, lon, 15), index.scan(lat, lon)
        assert fast is not None and slow is not None
        assert fast.street.id == slow.street.id
        assert fast.km == pytest.approx(slow.km, rel=1e-6)


def test_latitude_and_longitude_are_never_swapped() -> None:
    # where lat and lon are alike, a swap would give a plausible, wrong street
    a, b = street(1, 45.00, 45.30, "A"), street(2, 45.30, 45.00, "B")
    index = StreetIndex([a, b])
    found = index.nearest(45.001, 45.299, 15)
    assert found is not None and found.street.name == "A" and found.km < 0.2
    found = index.nearest(45.299, 45.001, 15)
    assert found is not None and found.street.name == "B"


def test_a_point_beside_the_middle_of_a_long_street_resolves_to_it() -> None:
    # a 10 km avenue given by its two ends, and two lanes a few hundred metres off it
    avenue = street(1, 50.0, 127.07, "Long Avenue")
    west, east = street(2, 50.005, 127.04, "West Lane"), street(3, 50.005, 127.1, "East Lane")
    index = StreetIndex([avenue, west, east], {1: [[(50.0, 127.0), (50.0, 127.14)]]})
    found = index.nearest(50.001, 127.05, 15)
    assert found is not None and found.street.name == "Long Avenue"
    assert found.km == pytest.approx(0.111, abs=0.002)
    # as points only, the avenue's ends are far: the lines are what make it near
    points_only = StreetIndex([street(1, 50.0, 127.0, "Long Avenue"), west, east])
    found = points_only.nearest(50.001, 127.05, 15)
    assert found is not None and found.street.name == "West Lane"


def test_the_midpoint_is_halfway_along_the_lines() -> None:
    lat, lon = midpoint([[(50.0, 127.0), (50.0, 127.1)], [(50.0, 127.1), (50.0, 127.3)]])
    assert lat == pytest.approx(50.0) and lon == pytest.approx(127.15, abs=1e-6)


def test_the_sample_geojson_joins_the_ways_of_one_street() -> None:
    rows = {r.name: r for r in read_gazetteer(ROOT / "data" / "heihe_lines.geojson")}
    assert set(rows) == {"黑龙江大街", "中央街", "中央街东", "王肃街", "通江路"}
    avenue = rows["黑龙江大街"]
    assert avenue.lines is not None and len(avenue.lines) == 2  # two OSM ways, one street
    assert avenue.district == "爱辉区" and rows["通江路"].district == "北安市"
    # GeoJSON positions are [lon, lat]; rows are (lat, lon)
    assert avenue.lines[0][0] == (50.2560, 127.4300)


def _collection(*features: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _line(name: object = "Main", coords: object = None, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": {"name": name, "district": "North", **props},
        "geometry": {"type": "LineString", "coordinates": coords or [[127.0, 50.0], [127.1, 50]]},
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "line 1 column 2: not valid JSON"),
        (b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        (_collection(_line(), _line(name="")), "features[1]: no street name"),
        (_collection(_line(coords=[[127.0, 50.0]])), "features[0]: a line needs at least 2"),
        (_collection(_line(coords=[[127.0, 95.0], [127.1, 50]])), "latitude 95.0 is outside"),
        (_collection(_line(coords=[["a", 50.0], [127.1, 50]])), "position 0: not a [longitude"),
        (
            _collection(
                {
                    "type": "Feature",
                    "properties": {"name": "X", "district": "N"},
                    "geometry": {"type": "Polygon", "coordinates": []},
                }
            ),
            "features[0]: geometry 'Polygon' is not a LineString",
        ),
        (_collection(), "no features"),
    ],
)
def test_bad_geojson_is_refused_whole_naming_the_feature(data: bytes, message: str) -> None:
    with pytest.raises(GazetteerError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_gazetteer_geojson(data, "f.geojson")


def test_the_district_comes_from_a_property_or_the_command_line() -> None:
    feature = _line(**{"addr:district": "South"})
    del feature["properties"]["district"]  # type: ignore[attr-defined]
    with pytest.raises(GazetteerError, match=r"no district in properties\.district"):
        parse_gazetteer_geojson(_collection(feature))
    rows = parse_gazetteer_geojson(_collection(feature), district_property="addr:district")
    assert rows[0].district == "South"
    rows = parse_gazetteer_geojson(_collection(feature), district="West")
    assert rows[0].district == "West"


async def test_geojson_streets_import_idempotently_and_resolve_along_their_lines(
    bot: Snowbot, tmp_path: Path
) -> None:
    path = ROOT / "data" / "heihe_lines.geojson"
    first = await bot.import_streets(path)
    assert first.added == 5
    again = await bot.import_streets(path)
    assert (again.added, again.moved, again.unchanged) == (0, 0, 5)
    cadre = await person(bot, 10)
    # beside 黑龙江大街 near its western end, 3.5 km from the point halfway along it
    done = await bot.check_in(cadre, 50.2562, 127.4400)
    assert done.street.name == "黑龙江大街" and done.km < 0.15


async def test_check_ins_name_the_right_street_between_names_that_share_a_prefix(
    bot: Snowbot,
) -> None:
    cadre = await person(bot, 10)
    near_east = await bot.check_in(cadre, 50.2401, 127.5098)
    assert near_east.street.name == "Station Road East"
    near_plain = await bot.check_in(cadre, 50.2399, 127.5003)
    assert near_plain.street.name == "Station Road"


@pytest.mark.parametrize(
    ("lat", "lon", "key"),
    [
        (50.24 + 17 / 111.2, 127.5, "checkin.too_far"),  # 17 km north of the city
        (-50.24, 127.5, "checkin.too_far"),  # the mirrored hemisphere
        (50.24, -127.5, "checkin.too_far"),
        (0.0, 0.0, "checkin.bad_location"),
        (127.5, 50.24, "checkin.bad_location"),  # swapped: no such latitude
    ],
)
async def test_far_or_impossible_check_ins_are_refused_and_count_nothing(
    bot: Snowbot, lat: float, lon: float, key: str
) -> None:
    cadre = await person(bot, 10)
    with pytest.raises(Refused) as refused:
        await bot.check_in(cadre, lat, lon)
    assert refused.value.key == key
    if key == "checkin.too_far":
        km = refused.value.params["km"]
        assert km > 15 and km == round(km, 1)  # told to 100 m, not to the metre
    tally = await bot.tally()
    assert (tally.person_times, tally.on_duty, tally.people) == (0, 0, 0)


async def test_tasks_are_listed_nearest_first_with_the_distance(bot: Snowbot) -> None:
    coordinator = await person(bot, 1)
    river = (await bot.post_task(coordinator, ["River", "Road"])).task
    school = (await bot.post_task(coordinator, ["School", "Lane"])).task
    station = (await bot.post_task(coordinator, ["Station", "Road"])).task
    cadre = await person(bot, 10)
    await bot.check_in(cadre, 50.2402, 127.5002)  # at Station Road
    listed = await bot.tasks_for(cadre)
    assert [n.task.id for n in listed] == [station.id, school.id, river.id]
    assert listed[0].km is not None and listed[0].km < 0.05
    # without a position: oldest first among those still wanting people
    unplaced = await bot.tasks_for(coordinator)
    assert [n.task.id for n in unplaced] == [river.id, school.id, station.id]


async def test_a_done_far_from_the_street_is_accepted_but_told_to_the_dispatcher(
    bot: Snowbot,
) -> None:
    from snowbot.domain.roles import Role

    coordinator = await person(bot, 1)
    await bot.grant(coordinator, 50, Role.DISPATCHER, None)
    dispatcher = await person(bot, 50)
    task = (await bot.post_task(dispatcher, ["River", "Road"])).task  # South
    near = (await bot.post_task(dispatcher, ["Station", "Road"])).task
    cadre = await person(bot, 10, "Zhao")
    await bot.ask_check_in(cadre, 2)  # a pair: one on each task
    await bot.check_in(cadre, 50.2401, 127.5001)  # at Station Road, 4.5 km north of River Road
    await bot.accept(cadre, task.id)
    await bot.accept(cadre, near.id)
    assert await waiting(bot, 50) == []
    done = await bot.complete(cadre, task.id)
    assert done.task.status == "done"  # accepted, not refused
    # the dispatcher hears who marked it done (README "Who hears what"), and apart, the distance
    notices = [n for n in await waiting(bot, 50) if n.key.startswith("done-far:")]
    assert len(notices) == 1 and f"#{task.id}" in (notices[0].text or "")
    assert "4.5 公里" in (notices[0].text or "") and "Zhao" in (notices[0].text or "")
    # a done reported at the street warns of nothing
    await bot.complete(cadre, near.id)
    assert len([n for n in await waiting(bot, 50) if n.key.startswith("done-far:")]) == 1


async def test_the_check_in_reply_offers_only_tasks_within_reach(bot: Snowbot) -> None:
    from dataclasses import replace

    bot.config = replace(bot.config, geo=replace(bot.config.geo, max_distance_km=3))
    coordinator = await person(bot, 1)
    await bot.post_task(coordinator, ["River", "Road"])  # 4.5 km south
    near = (await bot.post_task(coordinator, ["School", "Lane"])).task
    checked = await bot.check_in(await person(bot, 10), 50.2401, 127.5001)
    assert [n.task.id for n in checked.nearby] == [near.id]
