"""Which street is this person at: a grid index in front of geodesic distances (geopy).

A street is a point (from CSV) or lines (from GeoJSON); its distance is the
distance to its nearest vertex or segment, so a long avenue is near all along
its length. Coordinates are (lat, lon) everywhere in this module.

The index keeps every street's geometry in flat float arrays (a 100,000-street
city fits in a few tens of MB) and registers each street in every grid cell its
lines pass through. A lookup visits rings of cells outwards from the person
until no unseen cell can hold anything nearer, ranks what it saw on a local
flat projection, and settles the few closest with geopy's geodesic.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from geopy.distance import geodesic

from snowbot.domain.model import Street

Lines = Sequence[Sequence[tuple[float, float]]]  # parts of (lat, lon) vertices

_EARTH_KM = 6371.0088
_KM_PER_DEG = math.pi * _EARTH_KM / 180
# Cells are sized to the city: about two streets a cell, between ~110 m and ~5.5 km.
MIN_CELL_DEG = 0.001
MAX_CELL_DEG = 0.05
# Ranking is on a flat projection; candidates this close to the best are settled geodesically.
_RANK_SLACK = 1.01
_RANK_SLACK_KM = 0.01
_OFFSET = 1 << 20  # cell coordinates are packed into one int key
# Beyond this many rings of cells, a lookup asks the occupied cells instead (`_far`).
MAX_RINGS = 40


@dataclass(frozen=True)
class Nearest:
    street: Street
    km: float


def valid_position(lat: float, lon: float) -> bool:
    """A real place on Earth (and not the (0, 0) that broken GPS reports)."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return False
    return not (lat == 0 and lon == 0)


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS84 distance in km; (lat, lon) order, always."""
    return float(geodesic((lat1, lon1), (lat2, lon2)).km)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere: within 0.5% of the geodesic, cheap."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def line_length_km(lines: Lines) -> float:
    return sum(haversine_km(*part[k - 1], *part[k]) for part in lines for k in range(1, len(part)))


def midpoint(lines: Lines) -> tuple[float, float]:
    """The point halfway along the lines: where a line street is shown as a point."""
    half = line_length_km(lines) / 2
    for part in lines:
        for k in range(1, len(part)):
            step = haversine_km(*part[k - 1], *part[k])
            if step >= half and step > 0:
                t = half / step
                (a_lat, a_lon), (b_lat, b_lon) = part[k - 1], part[k]
                return a_lat + (b_lat - a_lat) * t, a_lon + (b_lon - a_lon) * t
            half -= step
    return lines[0][0]


class StreetIndex:
    """Nearest-street lookups without scanning the whole city."""

    def __init__(self, streets: Iterable[Street], lines: Mapping[int, Lines] | None = None) -> None:
        lines = lines or {}
        self._streets: list[Street] = []
        self._position: dict[int, int] = {}  # street id -> its place in the arrays
        self._coords = array("d")  # lat, lon of every vertex, street after street
        self._parts = array("q", [0])  # vertex index where each part begins (+ end)
        self._first_part = array("q", [0])  # part index where each street begins (+ end)
        for street in streets:
            for part in lines.get(street.id) or [[(street.lat, street.lon)]]:
                for lat, lon in part:
                    self._coords.extend((lat, lon))
                self._parts.append(len(self._coords) // 2)
            self._first_part.append(len(self._parts) - 1)
            self._position[street.id] = len(self._streets)
            self._streets.append(street)
        self.cell_deg = self._cell_size()
        self._cells: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self._streets)):
            for key in self._cells_of(i):
                self._cells[key].append(i)
        self._cells = dict(self._cells)

    def __len__(self) -> int:
        return len(self._streets)

    # -- building ----------------------------------------------------------------

    def _cell_size(self) -> float:
        n = len(self._streets)
        if n < 2:
            return MAX_CELL_DEG
        lats, lons = self._coords[0::2], self._coords[1::2]
        area = max(max(lats) - min(lats), 1e-6) * max(max(lons) - min(lons), 1e-6)
        size = math.sqrt(area / n) * 1.5
        return min(MAX_CELL_DEG, max(MIN_CELL_DEG, size))

    def _key(self, lat: float, lon: float) -> int:
        return _pack(math.floor(lat / self.cell_deg), math.floor(lon / self.cell_deg))

    def _cells_of(self, i: int) -> set[int]:
        """Every cell street i passes through (each segment cut into pieces shorter than a cell)."""
        keys: set[int] = set()
        c, cell = self._coords, self.cell_deg
        for p in range(self._first_part[i], self._first_part[i + 1]):
            a, b = self._parts[p], self._parts[p + 1]
            keys.add(self._key(c[2 * a], c[2 * a + 1]))
            for v in range(a + 1, b):
                lat0, lon0, lat1, lon1 = c[2 * v - 2], c[2 * v - 1], c[2 * v], c[2 * v + 1]
                pieces = max(1, math.ceil(max(abs(lat1 - lat0), abs(lon1 - lon0)) / cell))
                for k in range(pieces):
                    s, e = k / pieces, (k + 1) / pieces
                    ya, xa = lat0 + (lat1 - lat0) * s, lon0 + (lon1 - lon0) * s
                    yb, xb = lat0 + (lat1 - lat0) * e, lon0 + (lon1 - lon0) * e
                    # a piece shorter than a cell lies within the cells of its box's corners
                    for y in (ya, yb):
                        for x in (xa, xb):
                            keys.add(self._key(y, x))
        return keys

    # -- lookups -----------------------------------------------------------------

    def nearest(self, lat: float, lon: float, within_km: float) -> Nearest | None:
        """The nearest street by geodesic distance; None only for an empty city.

        Past `within_km` the answer only says how far off the person is (for the
        refusal); it is found from the occupied cells, never a scan of every street.
        """
        if not self._streets:
            return None
        kx, ky = _scales(lat)
        cell = self.cell_deg
        cy, cx = math.floor(lat / cell), math.floor(lon / cell)
        # the narrow side of a cell, on the poleward side of the search (cells narrow there)
        ring_km = cell * min(_scales(min(89.0, abs(lat) + 0.5))[0], ky)
        max_rings = min(int(within_km / ring_km) + 2, MAX_RINGS)
        seen: dict[int, tuple[float, float, float]] = {}
        best = math.inf
        for r in range(max_rings + 1):
            if seen and (r - 1) * ring_km > best * _RANK_SLACK:
                break  # no unseen cell can hold anything nearer
            for key in _ring(cy, cx, r):
                for i in self._cells.get(key, ()):
                    if i not in seen:
                        found = self._closest(i, lat, lon, kx, ky)
                        seen[i] = found
                        best = min(best, found[0])
        else:
            return self._far(lat, lon)  # nothing provably nearest nearby: far from the city
        return self._settle(lat, lon, seen, best)

    def distance_km(
        self, street_id: int, lat: float, lon: float, exact: bool = True
    ) -> float | None:
        """Km from a position to one street's nearest point (None: unknown id).

        Geodesic when `exact`, else the cheap great-circle figure, good for ranking.
        """
        i = self._position.get(street_id)
        if i is None:
            return None
        _, c_lat, c_lon = self._closest(i, lat, lon, *_scales(lat))
        return (geodesic_km if exact else haversine_km)(lat, lon, c_lat, c_lon)

    def nearest_among(
        self, lat: float, lon: float, wanted: Iterable[int], k: int
    ) -> list[tuple[int, float]]:
        """(street id, great-circle km) of the `k` streets of `wanted` nearest a position,
        nearest first (a few more when they tie); the rest of `wanted` is never measured
        when the cells around hold enough of it (a cadre's nearest tasks in a big city)."""
        todo = {self._position[s] for s in wanted if s in self._position}
        kx, ky = _scales(lat)
        cell = self.cell_deg
        cy, cx = math.floor(lat / cell), math.floor(lon / cell)
        ring_km = cell * min(_scales(min(89.0, abs(lat) + 0.5))[0], ky)
        found: dict[int, tuple[float, float, float]] = {}
        most = 4 * len(self._cells)  # past this many cells, measuring every one is cheaper
        r = 0
        while todo and len(found) < len(todo):
            if len(found) >= k:
                kth = sorted(f[0] for f in found.values())[k - 1]
                if (r - 1) * ring_km > kth * _RANK_SLACK:
                    break  # no unseen cell can hold anything nearer than the k-th
            if (2 * r + 1) ** 2 > most:
                for i in todo - found.keys():
                    found[i] = self._closest(i, lat, lon, kx, ky)
                break
            for key in _ring(cy, cx, r):
                for i in self._cells.get(key, ()):
                    if i in todo and i not in found:
                        found[i] = self._closest(i, lat, lon, kx, ky)
            r += 1
        ranked = sorted(
            (haversine_km(lat, lon, c_lat, c_lon), self._streets[i].id)
            for i, (_, c_lat, c_lon) in found.items()
        )
        return [(street_id, km) for km, street_id in ranked]

    def scan(self, lat: float, lon: float) -> Nearest | None:
        """Geodesic distance to every street, no index: the slow reference for tests and bench."""
        found: Nearest | None = None
        kx, ky = _scales(lat)
        for i, street in enumerate(self._streets):
            _, c_lat, c_lon = self._closest(i, lat, lon, kx, ky)
            km = geodesic_km(lat, lon, c_lat, c_lon)
            if found is None or km < found.km or (km == found.km and street.id < found.street.id):
                found = Nearest(street, km)
        return found

    def _closest(
        self, i: int, lat: float, lon: float, kx: float, ky: float
    ) -> tuple[float, float, float]:
        """(km on the local flat projection, lat, lon) of street i's point nearest the person."""
        c = self._coords
        best2 = math.inf
        b_lat, b_lon = lat, lon
        for p in range(self._first_part[i], self._first_part[i + 1]):
            a, b = self._parts[p], self._parts[p + 1]
            y0, x0 = (c[2 * a] - lat) * ky, (c[2 * a + 1] - lon) * kx
            d2 = x0 * x0 + y0 * y0
            if d2 < best2:
                best2, b_lat, b_lon = d2, c[2 * a], c[2 * a + 1]
            for v in range(a + 1, b):
                y1, x1 = (c[2 * v] - lat) * ky, (c[2 * v + 1] - lon) * kx
                dx, dy = x1 - x0, y1 - y0
                length2 = dx * dx + dy * dy
                t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(x0 * dx + y0 * dy) / length2))
                px, py = x0 + t * dx, y0 + t * dy
                d2 = px * px + py * py
                if d2 < best2:
                    best2 = d2
                    b_lat = c[2 * v - 2] + (c[2 * v] - c[2 * v - 2]) * t
                    b_lon = c[2 * v - 1] + (c[2 * v + 1] - c[2 * v - 1]) * t
                x0, y0 = x1, y1
        return math.sqrt(best2), b_lat, b_lon

    def _settle(
        self, lat: float, lon: float, seen: dict[int, tuple[float, float, float]], best: float
    ) -> Nearest:
        """Geodesic distances for the candidates that could still be the nearest."""
        limit = best * _RANK_SLACK + _RANK_SLACK_KM
        found: Nearest | None = None
        for i, (km, c_lat, c_lon) in seen.items():
            if km > limit:
                continue
            exact = geodesic_km(lat, lon, c_lat, c_lon)
            street = self._streets[i]
            if found is None or (exact, street.id) < (found.km, found.street.id):
                found = Nearest(street, exact)
        assert found is not None
        return found

    def _far(self, lat: float, lon: float) -> Nearest:
        """Nearest street for a person far from every street: occupied cells, nearest first."""
        cell = self.cell_deg
        bounds: list[tuple[float, int]] = []
        for key in self._cells:
            cy, cx = _unpack(key)
            y = min(max(lat, cy * cell), (cy + 1) * cell)
            x = min(max(lon, cx * cell), (cx + 1) * cell)
            bounds.append((haversine_km(lat, lon, y, x) * 0.99, key))  # a lower bound
        bounds.sort()
        kx, ky = _scales(lat)
        best: tuple[float, int, float, float] | None = None
        done: set[int] = set()
        for bound, key in bounds:
            if best is not None and bound > best[0]:
                break
            for i in self._cells[key]:
                if i in done:
                    continue
                done.add(i)
                _, c_lat, c_lon = self._closest(i, lat, lon, kx, ky)
                km = haversine_km(lat, lon, c_lat, c_lon)
                if best is None or km < best[0]:
                    best = (km, i, c_lat, c_lon)
        assert best is not None
        _, i, c_lat, c_lon = best
        return Nearest(self._streets[i], geodesic_km(lat, lon, c_lat, c_lon))


def _scales(lat: float) -> tuple[float, float]:
    """km per degree of longitude and of latitude around `lat`."""
    return max(math.cos(math.radians(lat)), 1e-6) * _KM_PER_DEG, _KM_PER_DEG


def _ring(cy: int, cx: int, r: int) -> Iterable[int]:
    """The keys of the cells at Chebyshev distance r from (cy, cx)."""

    if r == 0:
        yield _pack(cy, cx)
        return
    for dx in range(-r, r + 1):
        yield _pack(cy - r, cx + dx)
        yield _pack(cy + r, cx + dx)
    for dy in range(-r + 1, r):
        yield _pack(cy + dy, cx - r)
        yield _pack(cy + dy, cx + r)


def _pack(cy: int, cx: int) -> int:
    """A cell's (row, column) as one int key."""
    return (cy + _OFFSET) * (2 * _OFFSET) + (cx + _OFFSET)


def _unpack(key: int) -> tuple[int, int]:
    return key // (2 * _OFFSET) - _OFFSET, key % (2 * _OFFSET) - _OFFSET
