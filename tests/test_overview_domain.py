"""The overview's pure parts: a street's state and shape, turnout hour by hour."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from snowbot.domain.counts import HourTurnout, StreetStates
from snowbot.domain.model import Street
from snowbot.text.overview import MAX_HOURS, StreetLayer, geometry, street_state, turnout_series

STREET = Street(1, 1, "North", "Station Road", 50.24, 127.5)
UTC = ZoneInfo("UTC")


def test_served_outranks_in_progress_which_outranks_open() -> None:
    states = StreetStates(
        served=frozenset({1}), in_progress=frozenset({1, 2}), open=frozenset({1, 2, 3})
    )
    assert [street_state(i, states) for i in (1, 2, 3, 4)] == [
        "served",
        "in_progress",
        "open",
        "unserved",
    ]


def test_a_street_is_its_lines_in_geojson_order_else_its_point() -> None:
    assert geometry(STREET, None) == {"type": "Point", "coordinates": [127.5, 50.24]}
    one = (((50.0, 127.0), (50.1, 127.1)),)
    assert geometry(STREET, one) == {
        "type": "LineString",
        "coordinates": [[127.0, 50.0], [127.1, 50.1]],
    }
    two = (*one, ((51.0, 128.0), (51.1, 128.1)))
    assert geometry(STREET, two)["type"] == "MultiLineString"
    assert geometry(STREET, (((50.0, 127.0),),)) == geometry(STREET, None)  # a lone vertex


def test_turnout_adds_up_started_and_ended_shifts_hour_by_hour() -> None:
    hour = 490_000
    rows = [
        HourTurnout(1, hour, 5, 0),
        HourTurnout(1, hour + 2, 3, 4),
        HourTurnout(2, hour + 1, 2, 0),
    ]
    series = turnout_series(rows, {1: "North", 2: "South"}, (hour + 3) * 3600 + 5, UTC)
    assert len(series["hours"]) == 4
    north, south = series["districts"]
    assert north == {"district": "North", "person_times": [5, 5, 8, 8], "on_duty": [5, 5, 4, 4]}
    assert south == {"district": "South", "person_times": [0, 2, 2, 2], "on_duty": [0, 2, 2, 2]}


def test_a_long_storm_keeps_its_last_hours_and_carries_the_rest() -> None:
    hour = 490_000
    rows = [HourTurnout(1, hour, 7, 0), HourTurnout(1, hour + 1, 0, 7)]
    later = (hour + MAX_HOURS + 50) * 3600
    series = turnout_series(rows, {1: "North"}, later, UTC)
    assert len(series["hours"]) == MAX_HOURS
    assert series["districts"][0]["person_times"] == [7] * MAX_HOURS
    assert series["districts"][0]["on_duty"] == [0] * MAX_HOURS


def test_each_street_carries_its_unit_and_its_state_last() -> None:
    streets = [STREET, Street(2, 1, "North", "School Lane", 50.25, 127.51, unit_id=7)]
    layer = StreetLayer(streets, {}, {7: 'Roads "Bureau" 道路'})
    states = StreetStates(served=frozenset({2}), in_progress=frozenset(), open=frozenset())
    features = json.loads(layer.geojson(states))["features"]
    assert [f["properties"] for f in features] == [
        {"district": "North", "street": "Station Road", "unit": None, "state": "unserved"},
        {
            "district": "North",
            "street": "School Lane",
            "unit": 'Roads "Bureau" 道路',
            "state": "served",
        },
    ]
    assert layer.codes(states) == "03"
    # a unit the names do not know (made after the streets were read) is no unit, not a crash
    assert (
        json.loads(StreetLayer(streets, {}).geojson(states))["features"][1]["properties"]["unit"]
        is None
    )
