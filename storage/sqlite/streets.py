"""Districts and their streets, as the gazetteer gives them; ids stay stable on re-import."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from snowbot.model import District, ImportCounts, Lines, Street, StreetRow
from storage.sqlite.engine import Engine, every, from_row, one, reads


def import_streets(db: sqlite3.Connection, wanted: Sequence[StreetRow]) -> ImportCounts:
    """Add new streets and move changed ones, all in one transaction."""
    districts: dict[str, int] = {
        r["name"]: r["id"] for r in every(db, "SELECT id, name FROM districts")
    }
    existing = {
        (r["district_id"], r["name"]): r
        for r in every(db, "SELECT district_id, name, id, lat, lon, lines FROM streets")
    }
    added: list[tuple[int, str, float, float, str | None]] = []
    moved: list[tuple[float, float, str | None, int]] = []
    unchanged = 0
    for row in wanted:
        did = districts.get(row.district)
        if did is None:
            made = one(db, "INSERT INTO districts (name) VALUES (?) RETURNING id", (row.district,))
            assert made is not None
            did = districts[row.district] = made["id"]
        lines = lines_json(row.lines)
        found = existing.get((did, row.name))
        if found is None:
            added.append((did, row.name, row.lat, row.lon, lines))
        elif (found["lat"], found["lon"], found["lines"]) != (row.lat, row.lon, lines):
            moved.append((row.lat, row.lon, lines, found["id"]))
        else:
            unchanged += 1
    db.executemany(
        "INSERT INTO streets (district_id, name, lat, lon, lines) VALUES (?, ?, ?, ?, ?)", added
    )
    db.executemany("UPDATE streets SET lat = ?, lon = ?, lines = ? WHERE id = ?", moved)
    return ImportCounts(added=len(added), moved=len(moved), unchanged=unchanged)


def lines_json(lines: Lines | None) -> str | None:
    """Lines as stored: compact JSON, lat first; the same lines always give the same text."""
    if not lines:
        return None
    return json.dumps([[[lat, lon] for lat, lon in part] for part in lines], separators=(",", ":"))


def streets(db: sqlite3.Connection) -> list[Street]:
    rows = every(
        db,
        "SELECT s.id, s.district_id, d.name AS district, s.name, s.lat, s.lon "
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


def districts(db: sqlite3.Connection) -> list[District]:
    rows = every(db, "SELECT id, name FROM districts ORDER BY name")
    return [from_row(District, r) for r in rows]


class SqliteStreets(Engine):
    """`snowbot.stores.StreetStore` on SQLite."""

    streets = reads(streets)
    street_lines = reads(street_lines)
    districts = reads(districts)

    async def import_streets(self, rows: Iterable[StreetRow]) -> ImportCounts:
        """Add new streets and move changed ones, all in one transaction; ids stay stable."""
        return await self._write(import_streets, list(rows))
