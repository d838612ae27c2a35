"""The city's boundary (`[city] boundary`, docs/commands.md "Chinese as people type it"): a GeoJSON
Polygon or MultiPolygon (WGS84). A position outside it is no place in the city, however near a
street is: Heihe's streets are 4 km from Blagoveshchensk, across the Amur, in Russia."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Ring = tuple[tuple[float, float], ...]  # (lon, lat) points, as GeoJSON writes them


class BoundaryError(ValueError):
    """A boundary file that cannot be used, in one line."""


def inside_ring(ring: Ring, lon: float, lat: float) -> bool:
    """Whether a point is inside a ring (even-odd rule; a point on an edge may go either way)."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@dataclass(frozen=True)
class Boundary:
    """Polygons, each an outer ring and its holes."""

    polygons: tuple[tuple[Ring, ...], ...]

    def contains(self, lat: float, lon: float) -> bool:
        """Whether (lat, lon) is inside one of the polygons and in none of its holes."""
        for outer, *holes in self.polygons:
            if inside_ring(outer, lon, lat) and not any(inside_ring(h, lon, lat) for h in holes):
                return True
        return False


def _ring(raw: Any) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise BoundaryError("a ring needs at least 4 positions")
    points = []
    for position in raw:
        if (
            not isinstance(position, list)
            or len(position) < 2
            or not all(isinstance(v, int | float) and math.isfinite(v) for v in position[:2])
        ):
            raise BoundaryError("a position must be [longitude, latitude]")
        lon, lat = float(position[0]), float(position[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise BoundaryError(f"[{lon}, {lat}] is not a WGS84 [longitude, latitude]")
        points.append((lon, lat))
    return tuple(points)


def _polygon(raw: Any) -> tuple[Ring, ...]:
    if not isinstance(raw, list) or not raw:
        raise BoundaryError("a Polygon needs its rings")
    return tuple(_ring(r) for r in raw)


def _geometry(raw: Any) -> list[tuple[Ring, ...]]:
    """The polygons of a geometry, a Feature or a FeatureCollection."""
    if not isinstance(raw, dict):
        raise BoundaryError("not a GeoJSON object")
    kind = raw.get("type")
    if kind == "FeatureCollection":
        features = raw.get("features")
        if not isinstance(features, list) or not features:
            raise BoundaryError("a FeatureCollection without features")
        return [p for feature in features for p in _geometry(feature)]
    if kind == "Feature":
        return _geometry(raw.get("geometry"))
    if kind == "Polygon":
        return [_polygon(raw.get("coordinates"))]
    if kind == "MultiPolygon":
        parts = raw.get("coordinates")
        if not isinstance(parts, list) or not parts:
            raise BoundaryError("a MultiPolygon needs its polygons")
        return [_polygon(p) for p in parts]
    raise BoundaryError(f"a {kind!s} is no Polygon or MultiPolygon")


def read_boundary(path: Path) -> Boundary:
    """The boundary in a GeoJSON file, or a BoundaryError saying in one line why not."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BoundaryError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BoundaryError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise BoundaryError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        return Boundary(tuple(_geometry(raw)))
    except BoundaryError as exc:
        raise BoundaryError(f"{path}: {exc}") from None
