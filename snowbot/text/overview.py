"""What the one-screen overview shows besides the tally: the streets by state, as GeoJSON,
and turnout hour by hour. Pure functions of what the service read; no person in them."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from snowbot.domain.counts import HourTurnout, StreetStates
from snowbot.domain.model import Lines, Street

STATES = ("unserved", "open", "in_progress", "served")
# hours of turnout drawn at most: a six-day storm is 144; older hours are folded into the first
MAX_HOURS = 240


def street_state(street_id: int, states: StreetStates) -> str:
    """A served street stays served; a live task in progress outranks one still open."""
    if street_id in states.served:
        return "served"
    if street_id in states.in_progress:
        return "in_progress"
    if street_id in states.open:
        return "open"
    return "unserved"


def geometry(street: Street, lines: Lines | None) -> dict[str, Any]:
    """A GeoJSON geometry ([lon, lat] order, to about 10 cm): the street's lines if it has
    them, else its point."""
    parts = [
        [[round(lon, 6), round(lat, 6)] for lat, lon in part]
        for part in lines or ()
        if len(part) >= 2
    ]
    if len(parts) == 1:
        return {"type": "LineString", "coordinates": parts[0]}
    if parts:
        return {"type": "MultiLineString", "coordinates": parts}
    return {"type": "Point", "coordinates": [round(street.lon, 6), round(street.lat, 6)]}


# a state in one character, in the order of STATES (the page's compact refresh)
CODES = {state: str(i) for i, state in enumerate(STATES)}
_MARK = "\x00"  # where a feature's state goes


class StreetLayer:
    """The city's streets as GeoJSON, serialised once: only the states change with the storm.

    A hundred thousand streets are tens of megabytes of JSON; writing them again after
    every check-in would hold the bot up, so each feature is kept as text up to its state.
    """

    def __init__(
        self,
        streets: Sequence[Street],
        lines: Mapping[int, Lines],
        units: Mapping[int, str] | None = None,
    ) -> None:
        """`units`: unit id -> name, for the unit responsible for each street (包保)."""
        units = units or {}
        self.ids = [s.id for s in streets]
        self._heads: list[str] = []
        for s in streets:
            feature = {
                "type": "Feature",
                "id": s.id,
                "geometry": geometry(s, lines.get(s.id)),
                # the state last: it is what changes, filled in after the head
                "properties": {
                    "district": s.district,
                    "street": s.name,
                    "unit": units.get(s.unit_id) if s.unit_id is not None else None,
                    "state": _MARK,
                },
            }
            text = json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
            head, _, _ = text.rpartition(json.dumps(_MARK))
            self._heads.append(head + '"')
        # which city this is: the page reloads the streets when it changes (an import)
        digest = hashlib.sha1(",".join(map(str, self.ids)).encode()).hexdigest()[:12]
        self.stamp = f"{len(self.ids)}-{digest}"

    def geojson(self, states: StreetStates) -> bytes:
        """The FeatureCollection of every street with its state now."""
        features = ",".join(
            f'{head}{street_state(i, states)}"}}}}'
            for head, i in zip(self._heads, self.ids, strict=True)
        )
        return ('{"type":"FeatureCollection","features":[' + features + "]}").encode()

    def codes(self, states: StreetStates) -> str:
        """Every street's state as one character (CODES), in the order of `geojson`."""
        return "".join(CODES[street_state(i, states)] for i in self.ids)


def turnout_series(
    rows: Iterable[HourTurnout],
    districts: Mapping[int, str],
    now: float,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """Person-times so far and people on duty at the end of each hour, per district.

    `hours` are labels in the city's time zone ("11-26 14:00"), from the first check-in's
    hour to the current one.
    """
    started: dict[int, dict[int, int]] = defaultdict(dict)
    ended: dict[int, dict[int, int]] = defaultdict(dict)
    first = None
    for row in rows:
        started[row.district_id][row.hour] = row.started
        ended[row.district_id][row.hour] = row.ended
        first = row.hour if first is None else min(first, row.hour)
    last = int(now // 3600)
    if first is None:
        first = last
    last = max(last, first)
    first_drawn = max(first, last - MAX_HOURS + 1)
    hours = list(range(first_drawn, last + 1))
    series = []
    for district_id, name in sorted(districts.items(), key=lambda d: d[1]):
        s, e = started.get(district_id, {}), ended.get(district_id, {})
        # what happened before the first hour drawn is carried into it
        total = sum(v for h, v in s.items() if h < first_drawn)
        gone = sum(v for h, v in e.items() if h < first_drawn)
        person_times, on_duty = [], []
        for hour in hours:
            total += s.get(hour, 0)
            gone += e.get(hour, 0)
            person_times.append(total)
            on_duty.append(total - gone)
        series.append({"district": name, "person_times": person_times, "on_duty": on_duty})
    labels = [datetime.fromtimestamp(h * 3600, tz).strftime("%m-%d %H:%M") for h in hours]
    return {"hours": labels, "districts": series}
