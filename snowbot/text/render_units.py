"""Units (单位包保) in words: /units page by page, a street beside its unit, and the units'
part of the daily summary. No Telegram here: the scheduler uses it too."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from snowbot.domain.counts import DayCounts
from snowbot.domain.tally import Tally
from snowbot.domain.units import by_turnout
from snowbot.text.texts import Catalog

UNITS_PER_PAGE = 20  # lines of /units: 2,000 units are 100 pages
DAY_UNITS = 12  # units named in the daily summary; the rest are counted
DAY_STREETS = 3  # unserved streets named per unit in the daily summary


def street_with_unit(cat: Catalog, street: str, unit: str | None) -> str:
    """A street, with the unit that answers for it when it has one."""
    return street if unit is None else cat("units.street", street=street, unit=unit)


@dataclass(frozen=True)
class UnitsPage:
    text: str
    page: int  # 0-based, clamped to the pages there are
    pages: int


def pages_of(count: int, per_page: int = UNITS_PER_PAGE) -> int:
    return max(1, -(-count // per_page))


def render_units(
    cat: Catalog, tally: Tally, page: int, per_page: int = UNITS_PER_PAGE
) -> UnitsPage:
    """/units: every unit by turnout, one page of them, then the cadres of no unit."""
    ranked = by_turnout(tally.units)
    pages = pages_of(len(ranked), per_page)
    page = min(max(page, 0), pages - 1)
    none = tally.no_unit
    lines = [cat("units.header", incident=tally.incident.name, count=len(ranked))]
    if not ranked:
        lines.append(cat("units.none"))
    first = page * per_page
    for rank, u in enumerate(ranked[first : first + per_page], start=first + 1):
        lines.append(
            cat(
                "units.line",
                rank=rank,
                unit=u.unit,
                person_times=u.person_times,
                on_duty=u.on_duty,
                people=u.people,
                unserved=u.streets_unserved,
                total=u.streets_total,
            )
        )
    lines.append(
        cat(
            "units.no_unit",
            person_times=none.person_times if none else 0,
            on_duty=none.on_duty if none else 0,
            people=none.people if none else 0,
        )
    )
    lines.append(cat("units.total", person_times=tally.person_times, on_duty=tally.on_duty))
    if pages > 1:
        lines.append(cat("units.page", page=page + 1, pages=pages))
    return UnitsPage("\n".join(lines), page, pages)


def render_day_units(cat: Catalog, tally: Tally, day: DayCounts) -> str:
    """The daily summary's units: each one's turnout that day and its streets still
    unserved, the busiest and most behind first; "" for a city without units."""
    if not tally.units:
        return ""
    turnout = dict(day.units)
    waiting: dict[str, list[str]] = defaultdict(list)
    for street in tally.unserved_streets:
        if street.unit is not None:
            waiting[street.unit].append(street.street)
    named = [u.unit for u in tally.units if turnout.get(u.unit) or waiting.get(u.unit)]
    named.sort(key=lambda unit: (-turnout.get(unit, 0), -len(waiting[unit]), unit))
    lines = [cat("units.day_header")]
    for unit in named[:DAY_UNITS]:
        streets = waiting[unit]
        if streets:
            shown = cat("suggest.separator").join(streets[:DAY_STREETS])
            if len(streets) > DAY_STREETS:
                shown = cat("units.day_more", streets=shown)
            unserved = cat("units.day_unserved", count=len(streets), streets=shown)
        else:
            unserved = cat("units.day_all_served")
        lines.append(
            cat("units.day_line", unit=unit, person_times=turnout.get(unit, 0), unserved=unserved)
        )
    if len(named) > DAY_UNITS:
        lines.append(cat("units.day_others", count=len(named) - DAY_UNITS))
    no_unit = day.person_times - sum(turnout.values())
    lines.append(cat("units.day_no_unit", person_times=no_unit))
    return "\n".join(lines)
