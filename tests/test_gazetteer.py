"""Gazetteer files: every kind of bad row refuses the whole file, naming its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.domain.gazetteer import parse_gazetteer_csv, read_gazetteer
from snowbot.settings.errors import GazetteerError
from tests.harness import SAMPLE_CSV

GOOD = "district,street,lat,lon\nNorth,Station Road,50.24,127.5\n"


def test_reads_a_good_file_with_a_bom() -> None:
    rows = parse_gazetteer_csv(("\ufeff" + GOOD).encode("utf-8"))
    assert [(r.district, r.name, r.lat, r.lon) for r in rows] == [
        ("North", "Station Road", 50.24, 127.5)
    ]


def test_columns_may_come_in_any_order() -> None:
    rows = parse_gazetteer_csv(b"lon,lat,street,district\n127.5,50.24,Station Road,North\n")
    assert (rows[0].lat, rows[0].lon) == (50.24, 127.5)


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("district,street,lat\nN,S,1\n", 1, "missing column lon"),
        (GOOD + "North,Mill Street,50.1\n", 3, "missing column lon"),
        (GOOD + "North,,50.1,127\n", 3, "empty street name"),
        (GOOD + ",Mill Street,50.1,127\n", 3, "empty district name"),
        (GOOD + "North,Mill Street,90.5,127\n", 3, "latitude 90.5 is outside"),
        (GOOD + "North,Mill Street,-91,127\n", 3, "latitude -91.0 is outside"),
        (GOOD + "North,Mill Street,50,180.01\n", 3, "longitude 180.01 is outside"),
        (GOOD + "North,Mill Street,fifty,127\n", 3, "lat 'fifty' is not a number"),
        (GOOD + "North,Mill Street,50,nan\n", 3, "not a finite number"),
        (GOOD + "North,Station Road,50.1,127\n", 3, "repeats line 2"),
    ],
)
def test_bad_rows_are_refused_with_their_line(body: str, line: int, reason: str) -> None:
    with pytest.raises(GazetteerError) as refused:
        parse_gazetteer_csv(body.encode("utf-8"), "city.csv")
    message = str(refused.value)
    assert f"line {line}:" in message and reason in message, message


def test_not_utf8_names_the_line() -> None:
    data = GOOD.encode() + b"North,Mill Street,50,127\n" + "北,街,50,127\n".encode("gbk")
    with pytest.raises(GazetteerError, match=r"line 4: not UTF-8"):
        parse_gazetteer_csv(data)


def test_empty_files_are_refused(tmp_path: Path) -> None:
    for body in (b"", b"district,street,lat,lon\n"):
        with pytest.raises(GazetteerError):
            parse_gazetteer_csv(body)
    with pytest.raises(GazetteerError, match="cannot be read"):
        read_gazetteer(tmp_path / "missing.csv")


def test_the_sample_city_has_six_districts_of_ten_streets_or_more() -> None:
    rows = read_gazetteer(SAMPLE_CSV)
    per_district: dict[str, int] = {}
    for row in rows:
        per_district[row.district] = per_district.get(row.district, 0) + 1
    assert set(per_district) == {"爱辉区", "北安市", "五大连池市", "嫩江市", "逊克县", "孙吴县"}
    assert min(per_district.values()) >= 10
