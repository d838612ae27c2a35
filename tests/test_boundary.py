"""The city's boundary (SPEC §13): Heihe's streets inside, the Russian bank of the Amur outside,
however near a street it is; a bad boundary file is a one-line config error."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from snowbot.domain.boundary import Boundary, read_boundary
from snowbot.domain.gazetteer import read_gazetteer
from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from snowbot.settings.errors import ConfigError
from snowbot.tools.standin import SimUser
from tests.harness import ROOT, SAMPLE_CSV, bot_config, no_errors, running_bot, said, stand_in

HEIHE = ROOT / "data" / "heihe_boundary.geojson"
BLAGOVESHCHENSK = (50.2830, 127.5400)  # Russia, across the Amur from 爱辉区
XINXING = (50.2499, 127.5233)  # beside 新兴街, 爱辉区, 3.9 km from Blagoveshchensk
CADRE = SimUser(10, "赵队员", "zh")
RESIDENT = SimUser(30, "Resident Li", "en")


def test_every_street_of_the_sample_city_is_inside_and_the_russian_bank_is_not() -> None:
    heihe = read_boundary(HEIHE)
    with SAMPLE_CSV.open(encoding="utf-8") as rows:
        outside = [
            r["street"]
            for r in csv.DictReader(rows)
            if not heihe.contains(float(r["lat"]), float(r["lon"]))
        ]
    assert outside == []
    lines = read_gazetteer(ROOT / "data" / "heihe_lines.geojson")
    points = [p for row in lines for part in row.lines or () for p in part]
    assert points and all(heihe.contains(*p) for p in points)
    assert not heihe.contains(*BLAGOVESHCHENSK)
    assert heihe.contains(*XINXING)


def test_a_multipolygon_with_a_hole() -> None:
    square = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0))
    hole = ((4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0))
    island = ((20.0, 20.0), (21.0, 20.0), (21.0, 21.0), (20.0, 21.0), (20.0, 20.0))
    shape = Boundary(((square, hole), (island,)))
    assert shape.contains(1, 1) and shape.contains(20.5, 20.5)  # (lat, lon)
    assert not shape.contains(5, 5)  # in the hole
    assert not shape.contains(15, 15) and not shape.contains(-0.1, 5)
    assert not shape.contains(2, -5)  # west of the square: its ray crosses two edges


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "file not found"),
        ("{", "not JSON"),
        ('{"type": "Point", "coordinates": [127.5, 50.2]}', "no Polygon or MultiPolygon"),
        ('{"type": "Polygon", "coordinates": [[[127.5, 50.2], [127.6, 50.2]]]}', "4 positions"),
        (
            '{"type": "Polygon", "coordinates": [[[50.2, 127.5], [50.3, 127.5], '
            "[50.3, 127.6], [50.2, 127.5]]]}",
            "not a WGS84",
        ),
    ],
)
def test_a_bad_boundary_is_a_one_line_config_error(
    tmp_path: Path, content: str | None, words: str
) -> None:
    if content is not None:
        (tmp_path / "city.geojson").write_text(content, "utf-8")
    with pytest.raises(ConfigError) as error:
        parse_config({"city": {"boundary": "city.geojson"}}, base_dir=tmp_path)
    message = str(error.value)
    assert message.startswith("city.boundary: ") and words in message and "\n" not in message


def with_heihe(config: Config, tmp_path: Path) -> Config:
    (tmp_path / "b.geojson").write_text(json.dumps(json.loads(HEIHE.read_text("utf-8"))))
    loaded = parse_config({"city": {"boundary": "b.geojson"}}, base_dir=tmp_path)
    return replace(config, city=replace(config.city, boundary=loaded.city.boundary))


async def test_a_check_in_across_the_river_is_refused_and_one_on_this_bank_counts(
    config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    heihe = with_heihe(config, tmp_path)
    async with stand_in() as api, running_bot(bot_config(heihe, api, SAMPLE_CSV)) as running:
        refused = await api.locate(CADRE, *BLAGOVESHCHENSK)
        assert refused.text == said("typed.outside", "zh", city="黑河")
        report = await api.ask(RESIDENT, "/report")
        assert report.text == said("residents.ask", "en")
        outside = await api.locate(RESIDENT, *BLAGOVESHCHENSK)
        assert outside.text == said("typed.outside_report", "en", city="Heihe")
        opened = await api.locate(CADRE, *XINXING)
        assert "新兴街" in opened.text
        # a live location drifting across the river leaves the shift on this bank
        await api.share_location(CADRE, *BLAGOVESHCHENSK, live_edit=True)
        await api.ask(CADRE, "/whoami")
        tally = await running.service.tally()
        assert (tally.person_times, tally.on_duty) == (1, 1)
        person = await running.service.person(CADRE.id)
        assert person is not None
        shift = await running.service.on_duty(person)
        assert shift is not None and (shift.lat, shift.lon) == XINXING
    no_errors(caplog, api)


async def test_without_a_boundary_the_distance_alone_decides(
    config: Config, tmp_path: Path
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, SAMPLE_CSV)):
        accepted = await api.locate(CADRE, *BLAGOVESHCHENSK)
        assert "新兴街" in accepted.text  # what the boundary is there to refuse
