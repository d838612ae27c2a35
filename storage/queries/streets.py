"""Districts and their streets, as the gazetteer gives them; ids stay stable on re-import."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from snowbot.domain.model import District, ImportCounts, Lines, Street, StreetRow
from snowbot.domain.units import unit_key
from storage.engine import Engine, every, from_row, one, reads
from storage.queries.units import ensure_units


def import_streets(db: sqlite3.Connection, wanted: Sequence[StreetRow]) -> ImportCounts:
    """Add new streets, move changed ones and set their units, all in one transaction.

    A row's unit None leaves the street's unit as it is; "" takes it away.
    """
    unit_ids, units_added = ensure_units(db, [row.unit for row in wanted if row.unit])
    districts: dict[str, int] = {
        r["name"]: r["id"] for r in every(db, "SELECT id, name FROM districts")
    }
    districts_before = len(districts)
    existing = {
        (r["district_id"], r["name"]): r
        for r in every(db, "SELECT district_id, name, id, lat, lon, lines, unit_id FROM streets")
    }
    added: list[tuple[int, str, float, float, str | None, int | None]] = []
    moved: list[tuple[float, float, str | None, int]] = []
    reassigned: list[tuple[int | None, int]] = []
    unchanged = 0
    for row in wanted:
        did = districts.get(row.district)
        if did is None:
            made = one(db, "INSERT INTO districts (name) VALUES (?) RETURNING id", (row.district,))
            assert made is not None
            did = districts[row.district] = made["id"]
        lines = lines_json(row.lines)
        unit = unit_ids[unit_key(row.unit)] if row.unit else None
        found = existing.get((did, row.name))
        if found is None:
            added.append((did, row.name, row.lat, row.lon, lines, unit))
            continue
        changed = False
        if (found["lat"], found["lon"], found["lines"]) != (row.lat, row.lon, lines):
            moved.append((row.lat, row.lon, lines, found["id"]))
            changed = True
        if row.unit is not None and found["unit_id"] != unit:
            reassigned.append((unit, found["id"]))
            changed = True
        unchanged += not changed
    db.executemany(
        "INSERT INTO streets (district_id, name, lat, lon, lines, unit_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        added,
    )
    db.executemany("UPDATE streets SET lat = ?, lon = ?, lines = ? WHERE id = ?", moved)
    db.executemany("UPDATE streets SET unit_id = ? WHERE id = ?", reassigned)
    if added or moved or reassigned or units_added or len(districts) > districts_before:
        # every process rebuilds its street index when this moves (`ServiceCore.follow_city`)
        db.execute(
            "INSERT INTO city_version (id, version) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET version = city_version.version + 1"
        )
    return ImportCounts(
        added=len(added),
        moved=len(moved),
        unchanged=unchanged,
        reassigned=len(reassigned),
        units_added=units_added,
    )


def lines_json(lines: Lines | None) -> str | None:
    """Lines as stored: compact JSON, lat first; the same lines always give the same text."""
    if not lines:
        return None
    return json.dumps([[[lat, lon] for lat, lon in part] for part in lines], separators=(",", ":"))


def streets(db: sqlite3.Connection) -> list[Street]:
    rows = every(
        db,
        "SELECT s.id, s.district_id, d.name AS district, s.name, s.lat, s.lon, s.unit_id "
        "FROM streets s JOIN districts d ON d.id = s.district_id ORDER BY s.id",
    )
    return [from_row(Street, r) for r in rows]


def street_lines(db: sqlite3.Connection) -> dict[int, Lines]:
    """The lines of every line street (GeoJSON), by street id; point streets have none."""
    rows = every(db, "SELECT id, lines FROM streets WHERE lines IS NOT NULL")
    return {
        int(r["id"]): tuple(tuple((lat, lon) for lat, lon in part) for part in parts)
        for r in rows
        for parts in [json.loads(r["lines"])]
    }


def city_version(db: sqlite3.Connection) -> int:
    """The number `import_streets` moves at each change of the city (0: never imported)."""
    row = one(db, "SELECT COALESCE(MAX(version), 0) AS v FROM city_version")
    return int(row["v"]) if row else 0


def districts(db: sqlite3.Connection) -> list[District]:
    rows = every(db, "SELECT id, name FROM districts ORDER BY name")
    return [from_row(District, r) for r in rows]


class StreetsQueries(Engine):
    """`snowbot.domain.stores.StreetStore` on SQLite."""

    streets = reads(streets)
    street_lines = reads(street_lines)
    districts = reads(districts)
    city_version = reads(city_version)

    async def import_streets(self, rows: Iterable[StreetRow]) -> ImportCounts:
        """Add new streets and move changed ones, all in one transaction; ids stay stable."""
        return await self._write(import_streets, list(rows))
