"""Reading a gazetteer file, refused whole on any bad row or feature.

Two formats: CSV `district,street,lat,lon[,unit]` (a street is a point), and GeoJSON
as exported from OpenStreetMap (a FeatureCollection of LineString and
MultiLineString features; a street is its lines). In GeoJSON the features of
one street (OSM cuts streets into many ways) are joined by district and name.
The unit responsible for a street (包保单位) is the optional column or property
`unit`; an empty one means the street has no unit.
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from pathlib import Path
from typing import Any

from snowbot.domain.geo import midpoint
from snowbot.domain.model import Lines, StreetRow
from snowbot.domain.units import MAX_UNIT_NAME, NameProblem, clean_unit_name
from snowbot.settings.errors import GazetteerError

COLUMNS = ("district", "street", "lat", "lon")
UNIT = "unit"  # the optional fifth column (CSV) or property (GeoJSON)
MAX_NAME = 200
# Every check-in measures along the nearest streets' lines: a street of millions of points
# would slow every check-in near it. Real streets need a few hundred.
MAX_POINTS_PER_FEATURE = 20_000
MAX_FILE_BYTES = 100_000_000
# Words that mean "the whole city" to /bind, /tally and /unserved: no district may be named so
CITY_WIDE = ("all", "全部", "全市")
DISTRICT_PROPERTY = "district"  # the GeoJSON property that names a street's district
GEOJSON_SUFFIXES = (".geojson", ".json")
# The sample city (docs/operators.md "Sample data"), package data so that an installed snowbot has
# it
SAMPLE_GAZETTEER = Path(__file__).resolve().parents[1] / "data" / "heihe_streets.csv"
# the sample city's outline: the Russian bank of the Amur lies outside it
SAMPLE_BOUNDARY = SAMPLE_GAZETTEER.with_name("heihe_boundary.geojson")


def read_gazetteer(
    path: Path, district_property: str = DISTRICT_PROPERTY, district: str | None = None
) -> list[StreetRow]:
    """Parse a gazetteer file, CSV or GeoJSON by its name or first character.

    GazetteerError names the line (CSV) or the feature (GeoJSON) and the reason.
    For GeoJSON, each street's district is its `district_property`, or `district`
    for the whole file.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GazetteerError(
                f"{path}: {size / 1e6:.0f} MB; a gazetteer may be at most "
                f"{MAX_FILE_BYTES // 1_000_000} MB (simplify the lines, or split the file)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise GazetteerError(f"{path}: cannot be read ({exc.strerror})") from None
    if path.suffix.lower() in GEOJSON_SUFFIXES or data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return parse_gazetteer_geojson(data, str(path), district_property, district)
    return parse_gazetteer_csv(data, str(path))


def parse_gazetteer_csv(data: bytes, source: str = "gazetteer") -> list[StreetRow]:
    """Parse CSV bytes (UTF-8, an optional BOM, a header row) into street rows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GazetteerError(f"{source}: line {line}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise GazetteerError(f"{source}: line 1: {exc}") from None
    if header is None:
        raise GazetteerError(f"{source}: empty file; expected a header {','.join(COLUMNS)}")
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise GazetteerError(
            f"{source}: line 1: missing column {', '.join(missing)} "
            f"(the header must name {','.join(COLUMNS)})"
        )
    at = {c: names.index(c) for c in (*COLUMNS, UNIT) if c in names}
    rows: list[StreetRow] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue  # blank lines are harmless
            row = _row(fields, at, len(names), f"{source}: line {line}")
            key = (row.district, row.name)
            if key in seen:
                raise GazetteerError(
                    f"{source}: line {line}: street {row.name!r} of {row.district!r} "
                    f"repeats line {seen[key]}"
                )
            seen[key] = line
            rows.append(row)
    except csv.Error as exc:
        raise GazetteerError(f"{source}: line {reader.line_num}: {exc}") from None
    if not rows:
        raise GazetteerError(f"{source}: no streets after the header")
    return rows


def _row(fields: list[str], at: dict[str, int], width: int, where: str) -> StreetRow:
    if len(fields) < width:
        lacking = [c for c in COLUMNS if at[c] >= len(fields)]
        raise GazetteerError(f"{where}: missing column {', '.join(lacking)}")
    if len(fields) > width:
        raise GazetteerError(f"{where}: {len(fields)} fields where the header has {width}")
    district = _clean_name(fields[at["district"]], "district", where)
    street = _clean_name(fields[at["street"]], "street", where)
    lat = _number(fields[at["lat"]], "lat", where)
    lon = _number(fields[at["lon"]], "lon", where)
    if not -90 <= lat <= 90:
        raise GazetteerError(f"{where}: latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise GazetteerError(f"{where}: longitude {lon} is outside -180..180")
    unit = _unit(fields[at[UNIT]], where) if UNIT in at else None
    return StreetRow(district=district, name=street, lat=lat, lon=lon, unit=unit)


def _unit(raw: str, where: str) -> str:
    """A street's unit as kept; "" (an empty cell) for none."""
    if not raw.strip():
        return ""
    cleaned = clean_unit_name(raw)
    if cleaned == NameProblem.TOO_LONG:
        raise GazetteerError(f"{where}: unit name longer than {MAX_UNIT_NAME} characters")
    if isinstance(cleaned, NameProblem):
        raise GazetteerError(f"{where}: unit name has control, direction or invisible characters")
    return cleaned


def _number(text: str, column: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise GazetteerError(f"{where}: {column} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise GazetteerError(f"{where}: {column} {text.strip()!r} is not a finite number")
    return value


def _clean_name(raw: str, column: str, where: str) -> str:
    """A street or district name as it is kept: NFKC-normalised (full-width letters and
    digits folded), and refused when it could show one thing and be another."""
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise GazetteerError(f"{where}: empty {column} name")
    if len(value) > MAX_NAME:
        raise GazetteerError(f"{where}: {column} name longer than {MAX_NAME} characters")
    # Cc: control characters; Cf: bidi overrides, zero-width spaces and joiners, which
    # reorder or hide what a dispatcher reads
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise GazetteerError(
            f"{where}: {column} name has control, direction or invisible characters"
        )
    scripts = {_script(ch) for ch in value} - {""}
    if "LATIN" in scripts and scripts & {"CYRILLIC", "GREEK"}:
        raise GazetteerError(
            f"{where}: {column} name mixes Latin letters with look-alike "
            f"{' and '.join(sorted(scripts - {'LATIN'}))} ones"
        )
    if column == "district" and value.casefold() in CITY_WIDE:
        raise GazetteerError(
            f"{where}: {value!r} cannot name a district: it means the whole city in /bind"
        )
    return value


def _script(char: str) -> str:
    """LATIN, CYRILLIC or GREEK for a letter of those scripts; "" for anything else."""
    if not char.isalpha():
        return ""
    name = unicodedata.name(char, "")
    return next((s for s in ("LATIN", "CYRILLIC", "GREEK") if name.startswith(s)), "")


# -- GeoJSON -------------------------------------------------------------------------


def parse_gazetteer_geojson(
    data: bytes,
    source: str = "gazetteer",
    district_property: str = DISTRICT_PROPERTY,
    district: str | None = None,
) -> list[StreetRow]:
    """Parse a GeoJSON FeatureCollection of named line streets into street rows."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise GazetteerError(f"{source}: not UTF-8 text") from None
    except RecursionError:
        raise GazetteerError(f"{source}: nested too deeply to be GeoJSON") from None
    except json.JSONDecodeError as exc:
        raise GazetteerError(
            f"{source}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise GazetteerError(f"{source}: not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise GazetteerError(f"{source}: the FeatureCollection has no features list")
    if district is not None:
        district = _clean_name(district, "district", f"{source}: --district")
    streets: dict[tuple[str, str], list[tuple[tuple[float, float], ...]]] = {}
    units: dict[tuple[str, str], tuple[str, int]] = {}  # a street's unit, and where it was
    for index, feature in enumerate(features):
        where = f"{source}: features[{index}]"
        name, district_name, parts = _feature(feature, where, district_property, district)
        streets.setdefault((district_name, name), []).extend(parts)
        unit = _feature_unit(feature, where)
        if unit is None:
            continue
        first = units.setdefault((district_name, name), (unit, index))
        if first[0] != unit:
            raise GazetteerError(
                f"{where}: unit {unit!r} differs from {first[0]!r} "
                f"of features[{first[1]}], the same street"
            )
    if not streets:
        raise GazetteerError(f"{source}: no features")
    # a file that names units anywhere gives every street one: a street without has none
    named = bool(units)
    rows = []
    for (district_name, name), parts in streets.items():
        lines: Lines = tuple(parts)
        lat, lon = midpoint(lines)
        unit = units.get((district_name, name), ("", 0))[0] if named else None
        rows.append(StreetRow(district_name, name, round(lat, 7), round(lon, 7), lines, unit))
    return rows


def _feature_unit(feature: dict[str, Any], where: str) -> str | None:
    """properties.unit of a (checked) feature: None when absent, "" for none."""
    properties = feature.get("properties") or {}
    if UNIT not in properties or properties[UNIT] is None:
        return None
    value = properties[UNIT]
    if not isinstance(value, str):
        raise GazetteerError(f"{where}: properties.unit is not text")
    return _unit(value, where)


def _feature(
    feature: Any, where: str, district_property: str, district: str | None
) -> tuple[str, str, list[tuple[tuple[float, float], ...]]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise GazetteerError(f"{where}: not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise GazetteerError(f"{where}: properties is not an object")
    name = properties.get("name")
    if not isinstance(name, str) or not name.strip():
        raise GazetteerError(
            f"{where}: no street name in properties.name (export only named streets)"
        )
    name = _clean_name(name, "street", where)
    if district is None:
        found = properties.get(district_property)
        if not isinstance(found, str) or not found.strip():
            raise GazetteerError(
                f"{where}: no district in properties.{district_property} "
                "(name the property with --district-property, or give --district)"
            )
        district = _clean_name(found, "district", where)
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        raise GazetteerError(f"{where}: no geometry")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "LineString":
        parts = [_line(coords, where)]
    elif kind == "MultiLineString":
        if not isinstance(coords, list) or not coords:
            raise GazetteerError(f"{where}: MultiLineString without lines")
        parts = [_line(line, f"{where} line {k}") for k, line in enumerate(coords)]
    else:
        raise GazetteerError(f"{where}: geometry {kind!r} is not a LineString or MultiLineString")
    if sum(len(part) for part in parts) > MAX_POINTS_PER_FEATURE:
        raise GazetteerError(
            f"{where}: more than {MAX_POINTS_PER_FEATURE:,} positions in one street; "
            "simplify the lines first (e.g. ogr2ogr -simplify 0.00001)"
        )
    return name, district, parts


def _line(coords: Any, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(coords, list) or len(coords) < 2:
        raise GazetteerError(f"{where}: a line needs at least 2 positions")
    return tuple(_position(p, f"{where} position {k}") for k, p in enumerate(coords))


def _position(position: Any, where: str) -> tuple[float, float]:
    """A GeoJSON position is [lon, lat]: returned as (lat, lon), like everything else."""
    if (
        not isinstance(position, list)
        or len(position) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
    ):
        raise GazetteerError(f"{where}: not a [longitude, latitude] position")
    lon, lat = float(position[0]), float(position[1])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise GazetteerError(f"{where}: not a finite position")
    if not -180 <= lon <= 180:
        raise GazetteerError(f"{where}: longitude {lon} is outside -180..180")
    if not -90 <= lat <= 90:
        raise GazetteerError(f"{where}: latitude {lat} is outside -90..90")
    return lat, lon
