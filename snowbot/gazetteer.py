"""Reading a gazetteer file: CSV `district,street,lat,lon`, refused whole on any bad row."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from snowbot.errors import GazetteerError
from storage.records import StreetRow

COLUMNS = ("district", "street", "lat", "lon")
MAX_NAME = 200


def read_gazetteer(path: Path) -> list[StreetRow]:
    """Parse a gazetteer file; GazetteerError names the line and the reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GazetteerError(f"{path}: cannot be read ({exc.strerror})") from None
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
    at = {c: names.index(c) for c in COLUMNS}
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
    district = fields[at["district"]].strip()
    street = fields[at["street"]].strip()
    for column, value in (("district", district), ("street", street)):
        if not value:
            raise GazetteerError(f"{where}: empty {column} name")
        if len(value) > MAX_NAME:
            raise GazetteerError(f"{where}: {column} name longer than {MAX_NAME} characters")
        if any(ord(ch) < 32 for ch in value):
            raise GazetteerError(f"{where}: {column} name has control characters")
    lat = _number(fields[at["lat"]], "lat", where)
    lon = _number(fields[at["lon"]], "lon", where)
    if not -90 <= lat <= 90:
        raise GazetteerError(f"{where}: latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise GazetteerError(f"{where}: longitude {lon} is outside -180..180")
    return StreetRow(district=district, name=street, lat=lat, lon=lon)


def _number(text: str, column: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise GazetteerError(f"{where}: {column} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise GazetteerError(f"{where}: {column} {text.strip()!r} is not a finite number")
    return value
