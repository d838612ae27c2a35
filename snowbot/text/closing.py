"""The storm's closing report (docs/commands.md "The storm's closing report"): when an incident
ends, what it came to, in the words of a city's bulletin.

The numbers are the incident's tally (one computation with `/tally`, the CSVs and
`snowbot tally --json`) and its busiest day; `render_closing` writes them out section by
section: the headline, the busiest day and district, the units (单位包保), the residents'
reports (群众求助) and the files attached. A later feature adds its lines in one place: a
field of `Closing` filled in `closing_facts` (or a figure of the tally), and a section in
`SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from snowbot.domain.counts import DistrictCounts
from snowbot.domain.directory import Directory
from snowbot.domain.model import Incident, TaskStatus
from snowbot.domain.numerals import bulletin_en, bulletin_zh
from snowbot.domain.stores import ClosingStore, CountStore
from snowbot.domain.tally import Tally, compute_tally
from snowbot.domain.units import by_turnout
from snowbot.text.texts import Catalog

FILES = ("shifts.csv", "tasks.csv")  # attached, made by snowbot.text.export
REPORTS_FILE = "reports.csv"  # attached too when residents reported anything
UNITS_NAMED = 5  # units named by turnout; the rest are counted


@dataclass(frozen=True)
class Closing:
    """What an ended incident came to."""

    incident: Incident
    tally: Tally  # the incident's tally: person-times, people, tasks, streets, districts
    ended_at: float
    busiest_day: date | None  # the city's calendar day with the most person-times
    busiest_day_person_times: int

    @property
    def busiest_district(self) -> DistrictCounts | None:
        """The district with the most person-times (the first by name on a tie)."""
        best = max(self.tally.districts, key=lambda d: d.person_times, default=None)
        return best if best is not None and best.person_times > 0 else None

    @property
    def reports_made(self) -> int:
        """Residents' reports of the incident, whatever became of them."""
        r = self.tally.reports
        return r.open + r.tasked + r.resolved + r.dismissed

    @property
    def files(self) -> tuple[str, ...]:
        """The CSVs attached to the report."""
        return (*FILES, REPORTS_FILE) if self.reports_made else FILES

    @property
    def empty(self) -> bool:
        """Nobody checked in and no task was posted: there is nothing to report."""
        return self.tally.person_times == 0 and not any(self.tally.tasks.values())


class Store(ClosingStore, CountStore, Protocol):
    """What the closing report reads."""


async def closing_facts(
    store: Store, incident: Incident, at: float, directory: Directory, tz: ZoneInfo
) -> Closing:
    """The closing report's numbers for `incident` (ended, or up to `at`)."""
    tally = await compute_tally(store, incident, at, directory)
    by_day: dict[date, int] = {}
    for quarter, person_times in await store.turnout_by_quarter_hour(incident.id):
        day = datetime.fromtimestamp(quarter, tz).date()
        by_day[day] = by_day.get(day, 0) + person_times
    # the most person-times; on a tie the earlier day
    busiest = max(sorted(by_day.items()), key=lambda item: item[1], default=None)
    return Closing(
        incident=incident,
        tally=tally,
        ended_at=incident.ended_at if incident.ended_at is not None else at,
        busiest_day=busiest[0] if busiest else None,
        busiest_day_person_times=busiest[1] if busiest else 0,
    )


# -- writing it out ------------------------------------------------------------------------


def bulletin(cat: Catalog, count: int) -> str:
    """A count as the city's bulletin gives it: "5.6万余" in Chinese, "over 56,000" in
    English; below ten thousand, exact (the CSVs keep every exact figure)."""
    figure, floored = bulletin_zh(count) if cat.language == "zh" else bulletin_en(count)
    return cat("closing.over", count=figure) if floored else figure


def dates(cat: Catalog, start: date, end: date) -> str:
    """The incident's days: "2024年11月25日至30日", "25–30 November 2024"."""
    ends = {"d2": end.day, "m2": cat(f"closing.month.{end.month}"), "y2": end.year}
    starts = {"d1": start.day, "m1": cat(f"closing.month.{start.month}"), "y1": start.year}
    if start == end:
        return cat("closing.date", **starts)
    if (start.year, start.month) == (end.year, end.month):
        return cat("closing.dates_in_month", **starts, d2=end.day)
    if start.year == end.year:
        return cat("closing.dates_in_year", **starts, d2=end.day, m2=ends["m2"])
    return cat("closing.dates", **starts, **ends)


def _headline(cat: Catalog, closing: Closing, tz: ZoneInfo) -> str:
    tally = closing.tally
    start = datetime.fromtimestamp(closing.incident.started_at, tz).date()
    end = datetime.fromtimestamp(closing.ended_at, tz).date()
    return "\n".join(
        (
            cat("closing.title", name=closing.incident.name),
            cat(
                "closing.headline",
                dates=dates(cat, start, end),
                person_times=bulletin(cat, tally.person_times),
                people=bulletin(cat, tally.people),
                tasks_done=bulletin(cat, tally.tasks[TaskStatus.DONE]),
                served=bulletin(cat, tally.streets_served),
                unserved=bulletin(cat, tally.streets_unserved),
            ),
        )
    )


def _busiest(cat: Catalog, closing: Closing, tz: ZoneInfo) -> str:
    district = closing.busiest_district
    if closing.busiest_day is None or district is None:
        return cat("closing.busiest_none")
    day = closing.busiest_day
    return cat(
        "closing.busiest",
        day=cat("closing.day", d=day.day, m=cat(f"closing.month.{day.month}")),
        day_person_times=bulletin(cat, closing.busiest_day_person_times),
        district=district.district,
        district_person_times=bulletin(cat, district.person_times),
    )


def _units(cat: Catalog, closing: Closing, tz: ZoneInfo) -> str:
    """The units that turned out most, and those whose streets are still uncleared."""
    turned_out = [u for u in by_turnout(closing.tally.units) if u.person_times > 0]
    lines = []
    if turned_out:
        named = cat("closing.list_sep").join(
            cat("closing.unit", unit=u.unit, person_times=bulletin(cat, u.person_times))
            for u in turned_out[:UNITS_NAMED]
        )
        more = len(turned_out) > UNITS_NAMED
        lines.append(
            cat(
                "closing.units_more" if more else "closing.units",
                units=named,
                count=len(turned_out),
            )
        )
    behind = sorted(
        (u for u in closing.tally.units if u.streets_unserved > 0),
        key=lambda u: (-u.streets_unserved, u.unit),
    )
    if behind:
        named = cat("closing.list_sep").join(
            cat("closing.unit_unserved", unit=u.unit, count=u.streets_unserved)
            for u in behind[:UNITS_NAMED]
        )
        more = len(behind) > UNITS_NAMED
        key = "closing.units_unserved_more" if more else "closing.units_unserved"
        lines.append(cat(key, units=named, count=len(behind)))
    return "\n".join(lines)


def _reports(cat: Catalog, closing: Closing, tz: ZoneInfo) -> str:
    """The residents' reports (群众求助): how many came in and what became of them."""
    if not closing.reports_made:
        return ""
    r = closing.tally.reports
    return cat(
        "closing.reports",
        total=bulletin(cat, closing.reports_made),
        resolved=bulletin(cat, r.resolved),
        tasked=bulletin(cat, r.tasked),
        open=bulletin(cat, r.open),
        dismissed=bulletin(cat, r.dismissed),
    )


def _attached(cat: Catalog, closing: Closing, tz: ZoneInfo) -> str:
    return cat("closing.attached_reports" if closing.reports_made else "closing.attached")


Section = Callable[[Catalog, Closing, ZoneInfo], str]
# The report, in order; a section with nothing to say writes "" and is left out.
SECTIONS: tuple[Section, ...] = (_headline, _busiest, _units, _reports, _attached)


def render_closing(cat: Catalog, closing: Closing, tz: ZoneInfo) -> str:
    return "\n".join(line for section in SECTIONS if (line := section(cat, closing, tz)))
