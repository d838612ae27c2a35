"""Units (单位包保): the units, who belongs to which, and their counters, kept in the same
transaction as the shifts they count (like district_counters); unit 0 counts the shifts of
cadres without a unit."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from snowbot.domain.counts import UnitTurnout
from snowbot.domain.model import Unit
from snowbot.domain.units import unit_key
from storage.engine import Engine, every, from_row, one, reads, writes
from storage.functions import functions_of

NO_UNIT = 0  # unit_counters.unit_id of the shifts of cadres without a unit


def ensure_units(db: sqlite3.Connection, names: Iterable[str]) -> tuple[dict[str, int], int]:
    """The ids of the units named, by key, creating those not known yet (and how many);
    a new unit takes the first spelling of its name."""
    wanted: dict[str, str] = {}
    for name in names:
        wanted.setdefault(unit_key(name), name)
    created = 0
    for key, name in sorted(wanted.items()):
        created += db.execute(
            f"INSERT INTO units (name, key, created_at) VALUES (?, ?, {functions_of(db).now}) "
            "ON CONFLICT (key) DO NOTHING",
            (name, key),
        ).rowcount
    ids = {r["key"]: int(r["id"]) for r in every(db, "SELECT id, key FROM units")}
    return {key: ids[key] for key in wanted}, created


def count_opened(
    db: sqlite3.Connection, incident_id: int, user_id: int, unit: int, headcount: int
) -> None:
    """A new shift counts for the unit it carries (0: none): person-times, on duty, and the
    person once an incident, in the check-in's own transaction."""
    db.execute(
        "INSERT INTO unit_counters (incident_id, unit_id, person_times, on_duty, people) "
        "VALUES (?1, ?2, ?3, ?3, CASE WHEN EXISTS (SELECT 1 FROM unit_people WHERE "
        "incident_id = ?1 AND unit_id = ?2 AND user_id = ?4) THEN 0 ELSE 1 END) "
        "ON CONFLICT (incident_id, unit_id) DO UPDATE SET "
        "person_times = unit_counters.person_times + excluded.person_times, "
        "on_duty = unit_counters.on_duty + excluded.on_duty, "
        "people = unit_counters.people + excluded.people",
        (incident_id, unit, headcount, user_id),
    )
    db.execute(
        "INSERT INTO unit_people (incident_id, unit_id, user_id) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (incident_id, unit, user_id),
    )


def count_on_duty(db: sqlite3.Connection, shift_id: int, incident_id: int, change: int) -> None:
    """A shift closed (-headcount) or reopened (+headcount): on duty for the unit it carries."""
    db.execute(
        "UPDATE unit_counters SET on_duty = on_duty + ? WHERE incident_id = ? "
        "AND unit_id = (SELECT COALESCE(unit_id, 0) FROM shifts WHERE id = ?)",
        (change, incident_id, shift_id),
    )


def unit_turnouts(
    db: sqlite3.Connection, incident_id: int
) -> tuple[list[UnitTurnout], UnitTurnout]:
    """Every unit with its counters (zeros if nobody turned out for it), and the no-unit
    turnout. Columns come back as JSON arrays, one row each, rather than a row per unit:
    2,000 units then cost the tally about a millisecond (docs/performance.md, figure 3)."""
    js = functions_of(db).json_list
    names = one(  # by name: the tally's order
        db,
        f"SELECT {js.format('id')} AS ids, {js.format('name')} AS names "
        "FROM (SELECT id, name FROM units ORDER BY name, id) AS by_name",
    )
    kept = one(
        db,
        f"SELECT {js.format('unit_id')} AS ids, {js.format('person_times')} AS pt, "
        f"{js.format('on_duty')} AS od, {js.format('people')} AS pp "
        "FROM unit_counters WHERE incident_id = ?",
        (incident_id,),
    )
    assert names is not None and kept is not None  # an aggregate always has its row
    counters = {
        uid: (pt, od, pp)
        for uid, pt, od, pp in zip(
            *(json.loads(kept[c]) for c in ("ids", "pt", "od", "pp")), strict=True
        )
    }
    zero = (0, 0, 0)
    units = [
        UnitTurnout(uid, name, *counters.get(uid, zero))
        for uid, name in zip(json.loads(names["ids"]), json.loads(names["names"]), strict=True)
    ]
    return units, UnitTurnout(NO_UNIT, "", *counters.get(NO_UNIT, zero))


def day_units(
    db: sqlite3.Connection, incident_id: int, since: float, until: float
) -> list[tuple[str, int]]:
    """Each unit's turnout in [since, until) (shifts begun then), most first."""
    rows = every(
        db,
        "SELECT u.name, SUM(sh.headcount) AS n FROM shifts sh JOIN units u ON u.id = sh.unit_id "
        "WHERE sh.incident_id = ? AND sh.started_at >= ? AND sh.started_at < ? "
        "GROUP BY u.id ORDER BY n DESC, u.name",
        (incident_id, since, until),
    )
    return [(r["name"], int(r["n"])) for r in rows]


def units(db: sqlite3.Connection) -> list[Unit]:
    """Every unit, by name."""
    return [from_row(Unit, r) for r in every(db, "SELECT id, name FROM units ORDER BY name, id")]


def add_unit(db: sqlite3.Connection, name: str) -> tuple[Unit, bool]:
    """The unit of this name, made if no unit has it yet (as matched); True if made now."""
    key = unit_key(name)
    made = one(
        db,
        f"INSERT INTO units (name, key, created_at) VALUES (?, ?, {functions_of(db).now}) "
        "ON CONFLICT (key) DO NOTHING RETURNING id, name",
        (name, key),
    )
    if made is not None:
        return from_row(Unit, made), True
    found = one(db, "SELECT id, name FROM units WHERE key = ?", (key,))
    assert found is not None  # the conflict was with it
    return from_row(Unit, found), False


def join_unit(db: sqlite3.Connection, user_id: int, unit_id: int) -> Unit | None:
    """Make the unit the user's own (their next shifts count for it); None if no such unit."""
    unit = one(db, "SELECT id, name FROM units WHERE id = ?", (unit_id,))
    if unit is None:
        return None
    db.execute("UPDATE users SET unit_id = ? WHERE id = ?", (unit_id, user_id))
    return from_row(Unit, unit)


def unit_of(db: sqlite3.Connection, user_id: int) -> Unit | None:
    row = one(
        db,
        "SELECT un.id, un.name FROM users u JOIN units un ON un.id = u.unit_id WHERE u.id = ?",
        (user_id,),
    )
    return from_row(Unit, row) if row else None


class UnitsQueries(Engine):
    """`snowbot.domain.stores.UnitStore` on SQLite."""

    units = reads(units)
    add_unit = writes(add_unit)
    join_unit = writes(join_unit)
    unit_of = reads(unit_of)
