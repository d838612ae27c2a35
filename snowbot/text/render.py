"""Turning domain results into localised text (no Telegram here: the scheduler uses it too)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from snowbot.domain.counts import DayCounts, DistrictCounts, DistrictDetail
from snowbot.domain.model import Task, TaskStatus
from snowbot.domain.tally import Tally
from snowbot.text.render_units import render_day_units, street_with_unit
from snowbot.text.texts import Catalog

UNSERVED_PER_DISTRICT = 20  # in chat; the CSV and --json have them all
UNSERVED_IN_REPORT = 5  # per district in the scheduled report


def distance(cat: Catalog, km: float) -> str:
    if km < 1:
        return cat("distance.m", value=int(round(km * 1000, -1)))
    return cat("distance.km", value=f"{km:.1f}")


def duration(cat: Catalog, seconds: float) -> str:
    if seconds < 60:  # second-scale test settings, and very short shifts
        return cat("duration.s", seconds=max(0, int(seconds)))
    minutes = int(seconds // 60)
    if minutes < 60:
        return cat("duration.m", minutes=minutes)
    return cat("duration.hm", hours=minutes // 60, minutes=minutes % 60)


def task_line(cat: Catalog, task: Task, km: float | None = None) -> str:
    line = cat("task.urgent") if task.urgent else ""
    line += cat(
        "task.line",
        id=task.id,
        street=task.street,
        district=task.district,
        accepted=task.accepted,
        needed=task.needed,
        status=cat(f"task.status.{task.status}"),
    )
    if km is not None:
        line += cat("task.distance", distance=distance(cat, km))
    if task.note:
        line += "\n" + cat("task.note", note=task.note)
    return line


def render_tally(
    cat: Catalog, tally: Tally, district: str | None = None, tz: ZoneInfo | None = None
) -> str:
    when = datetime.fromtimestamp(tally.at, tz).strftime("%Y-%m-%d %H:%M")
    lines = [cat("tally.header", incident=tally.incident.name, time=when)]
    if district is None:
        lines.append(
            cat(
                "tally.totals",
                person_times=tally.person_times,
                on_duty=tally.on_duty,
                people=tally.people,
            )
        )
        # who is free for a new task: the command centre's first question (docs/commands.md
        # "Places")
        lines.append(cat("places.tally", assigned=tally.assigned, available=tally.available))
        lines.append(cat("tally.tasks", **{s.value: tally.tasks[s] for s in TaskStatus}))
        lines.append(
            cat(
                "tally.streets",
                served=tally.streets_served,
                total=tally.streets_total,
                unserved=tally.streets_unserved,
            )
        )
    for d in tally.districts:
        if district is None or d.district == district:
            lines.append(
                cat(
                    "tally.district",
                    district=d.district,
                    person_times=d.person_times,
                    on_duty=d.on_duty,
                    tasks_done=d.tasks_done,
                    unserved=d.streets_unserved,
                    total=d.streets_total,
                )
            )
    return "\n".join(lines)


def render_district(cat: Catalog, counts: DistrictCounts, detail: DistrictDetail) -> str:
    """The lines a district's /tally adds below its line (docs/commands.md "Everyone affected hears
    it")."""
    available = counts.on_duty - detail.assigned
    return "\n".join(
        [
            "  " + cat("places.tally", assigned=detail.assigned, available=available),
            "  " + cat("tally.tasks", **{s.value: detail.tasks[s] for s in TaskStatus}),
            "  " + cat("district.reports", open=detail.reports_open, tasked=detail.reports_tasked),
        ]
    )


def render_unserved(
    cat: Catalog,
    tally: Tally,
    district: str | None = None,
    per_district: int = UNSERVED_PER_DISTRICT,
) -> str:
    streets = [u for u in tally.unserved_streets if district is None or u.district == district]
    if not streets:
        return cat("unserved.none")
    lines = [cat("unserved.header", count=len(streets))]
    by_district: dict[str, list[tuple[str, int | None]]] = {}
    for u in streets:
        # the street with the unit that answers for it (包保单位), if it has one
        label = street_with_unit(cat, u.street, u.unit)
        by_district.setdefault(u.district, []).append((label, u.open_task))
    for name, items in by_district.items():
        lines.append(cat("unserved.district", district=name, count=len(items)))
        # streets with a task waiting first: they are the ones someone can act on now
        items.sort(key=lambda item: (item[1] is None, item[1] or 0, item[0]))
        for street, task in items[:per_district]:
            if task is None:
                lines.append(cat("unserved.street", street=street))
            else:
                lines.append(cat("unserved.street_task", street=street, task=task))
        if len(items) > per_district:
            lines.append(cat("unserved.more", count=len(items) - per_district))
    return "\n".join(lines)


def render_report(
    cat: Catalog, tally: Tally, tz: ZoneInfo, today: tuple[int, int] | None = None
) -> str:
    """The scheduled report: the tally, then the unserved streets, five per district.

    `today`: which day of the storm it is and today's person-times, shown beside the
    incident's."""
    header = cat("report.header")
    if today is not None:
        day, person_times = today
        header += "\n" + cat("storm.today", day=day, today=person_times, total=tally.person_times)
    return "\n\n".join(
        (
            header,
            render_tally(cat, tally, tz=tz),
            render_unserved(cat, tally, per_district=UNSERVED_IN_REPORT),
        )
    )


def render_day(
    cat: Catalog,
    tally: Tally,
    day: DayCounts,
    since: float,
    until: float,
    tz: ZoneInfo,
    storm_day: int | None = None,
) -> str:
    """The daily summary: the 24 hours up to `until`, and where the incident stands
    (`storm_day`: which day of the storm it was)."""
    busiest = (
        cat("report.busiest", district=day.busiest_district, person_times=day.busiest_person_times)
        if day.busiest_district
        else cat("report.busiest_none")
    )
    summary = cat(
        "report.daily",
        day=datetime.fromtimestamp(until, tz).strftime("%Y-%m-%d"),
        since=datetime.fromtimestamp(since, tz).strftime("%m-%d %H:%M"),
        until=datetime.fromtimestamp(until, tz).strftime("%m-%d %H:%M"),
        person_times=day.person_times,
        total=tally.person_times,
        tasks_done=day.tasks_done,
        served=day.streets_served,
        unserved=tally.streets_unserved,
        busiest=busiest,
    )
    places = cat(
        "places.daily",
        on_duty=tally.on_duty,
        assigned=tally.assigned,
        available=tally.available,
    )
    text = summary + "\n" + places + render_resident_reports(cat, tally)
    units = render_day_units(cat, tally, day)
    if units:
        text = f"{text}\n\n{units}"
    return text if storm_day is None else cat("storm.day", day=storm_day) + "\n" + text


def render_resident_reports(cat: Catalog, tally: Tally) -> str:
    """The residents' reports (群众求助) line of the daily summary; nothing before any."""
    counts = tally.reports
    if not (counts.open or counts.tasked or counts.resolved or counts.dismissed):
        return ""
    wait = tally.median_report_wait
    return "\n" + cat(
        "residents.daily",
        open=counts.open,
        tasked=counts.tasked,
        resolved=counts.resolved,
        dismissed=counts.dismissed,
        median=duration(cat, wait) if wait is not None else cat("residents.median_none"),
    )
