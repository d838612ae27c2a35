"""Which street is this person at: a grid index in front of geodesic distances (geopy)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from geopy.distance import geodesic

from storage.records import Street

CELL_DEG = 0.01  # about 1.1 km north-south: a few streets per cell in a dense city
_EARTH_KM = 6371.0088
_KM_PER_DEG = math.pi * _EARTH_KM / 180


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


def _rough_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine on a sphere: cheap, within 0.5% of the geodesic, used only to rank."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


class StreetIndex:
    """Nearest street lookups without scanning the whole city."""

    def __init__(self, streets: Iterable[Street]) -> None:
        self._cells: dict[tuple[int, int], list[Street]] = defaultdict(list)
        self._all: list[Street] = []
        for street in streets:
            self._cells[_cell(street.lat, street.lon)].append(street)
            self._all.append(street)

    def __len__(self) -> int:
        return len(self._all)

    def nearest(self, lat: float, lon: float, within_km: float) -> Nearest | None:
        """The nearest street by geodesic distance; None only for an empty city.

        Rings of grid cells are searched outwards until no unseen cell can hold a
        nearer street; past `within_km` the answer is only needed to say how far
        off the person is, and a plain scan gives it.
        """
        if not self._all:
            return None
        cy, cx = _cell(lat, lon)
        cos_lat = max(math.cos(math.radians(min(abs(lat) + CELL_DEG, 90.0))), 1e-6)
        ring_km = CELL_DEG * _KM_PER_DEG * cos_lat  # the narrow side of a cell
        max_rings = int(within_km / ring_km) + 2
        best: list[tuple[float, Street]] = []
        best_km = math.inf
        for r in range(max_rings + 1):
            if best and (r - 1) * ring_km > best_km * 1.01:
                break
            for street in self._ring(cy, cx, r):
                km = _rough_km(lat, lon, street.lat, street.lon)
                best.append((km, street))
                best_km = min(best_km, km)
        if not best:
            best = [(_rough_km(lat, lon, s.lat, s.lon), s) for s in self._all]
            best_km = min(km for km, _ in best)
        return self._refine(lat, lon, [s for km, s in best if km <= best_km * 1.01 + 0.01])

    def scan(self, lat: float, lon: float) -> Nearest | None:
        """The nearest street by geodesic distance to every street: the slow reference."""
        return self._refine(lat, lon, self._all)

    @staticmethod
    def _refine(lat: float, lon: float, candidates: list[Street]) -> Nearest | None:
        found: Nearest | None = None
        for street in candidates:
            km = geodesic_km(lat, lon, street.lat, street.lon)
            if found is None or km < found.km or (km == found.km and street.id < found.street.id):
                found = Nearest(street, km)
        return found

    def _ring(self, cy: int, cx: int, r: int) -> Iterable[Street]:
        if r == 0:
            yield from self._cells.get((cy, cx), ())
            return
        for dx in range(-r, r + 1):
            yield from self._cells.get((cy - r, cx + dx), ())
            yield from self._cells.get((cy + r, cx + dx), ())
        for dy in range(-r + 1, r):
            yield from self._cells.get((cy + dy, cx - r), ())
            yield from self._cells.get((cy + dy, cx + r), ())


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)
