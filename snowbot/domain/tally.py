"""The tally (docs/commands.md "What it does, by role"): one computation behind /tally, the
reports, the CSV and `tally --json`."""

from __future__ import annotations

import json
import statistics
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from snowbot.domain.counts import DistrictCounts, UnservedStreet
from snowbot.domain.directory import Directory
from snowbot.domain.model import Incident, TaskStatus
from snowbot.domain.residents import ReportCounts
from snowbot.domain.stores import CountStore
from snowbot.domain.units import UnitCounts


@dataclass(frozen=True)
class Tally:
    incident: Incident
    person_times: int
    on_duty: int
    people: int
    tasks: dict[TaskStatus, int]
    streets_total: int
    streets_served: int
    districts: list[DistrictCounts]
    unserved_streets: list[UnservedStreet]
    at: float  # when it was counted (epoch seconds)
    assigned: int = 0  # on duty and holding places on live tasks (docs/commands.md "Places")
    reports: ReportCounts = field(default_factory=ReportCounts)  # residents' reports (群众求助)

    @property
    def available(self) -> int:
        """On duty and not placed: whom a new task can still have."""
        return self.on_duty - self.assigned

    units: list[UnitCounts] = field(default_factory=list)  # every unit, by name
    no_unit: UnitCounts | None = None  # the turnout of cadres without a unit (name "")

    @property
    def streets_unserved(self) -> int:
        return self.streets_total - self.streets_served

    def district(self, name: str) -> DistrictCounts | None:
        return next((d for d in self.districts if d.district == name), None)

    def as_json(self) -> dict[str, Any]:
        """Exactly the shape of `snowbot tally --json` (docs/operators.md "Command line")."""
        return {
            "incident": self.incident.name,
            "person_times": self.person_times,
            "on_duty": self.on_duty,
            "assigned": self.assigned,
            "available": self.available,
            "people": self.people,
            "tasks": {status.value: self.tasks[status] for status in TaskStatus},
            "streets": {
                "total": self.streets_total,
                "served": self.streets_served,
                "unserved": self.streets_unserved,
            },
            "districts": [
                {
                    "district": d.district,
                    "person_times": d.person_times,
                    "on_duty": d.on_duty,
                    "tasks_done": d.tasks_done,
                    "streets_total": d.streets_total,
                    "streets_unserved": d.streets_unserved,
                }
                for d in self.districts
            ],
            "unserved_streets": [
                {
                    "district": u.district,
                    "street": u.street,
                    "open_task": u.open_task,
                    "unit": u.unit,
                }
                for u in self.unserved_streets
            ],
            "units": [u.as_json() for u in self.units],
            # the turnout of cadres in no unit: with the units', it makes the total
            "no_unit": {
                "person_times": self.no_unit.person_times if self.no_unit else 0,
                "on_duty": self.no_unit.on_duty if self.no_unit else 0,
                "people": self.no_unit.people if self.no_unit else 0,
            },
            "reports": {
                "open": self.reports.open,
                "tasked": self.reports.tasked,
                "resolved": self.reports.resolved,
                "dismissed": self.reports.dismissed,
            },
        }

    @property
    def median_report_wait(self) -> float | None:
        """Seconds from a resident's report to its task done, the median; None before any."""
        return statistics.median(self.reports.waits) if self.reports.waits else None


async def compute_tally(
    store: CountStore, incident: Incident, at: float, directory: Directory
) -> Tally:
    """The tally of one incident: one snapshot of the database, over the city's streets."""
    counts = await store.tally_counts(incident)
    served, first_live = counts.served, counts.first_live
    unit_names: dict[int | None, str] = {u.unit_id: u.name for u in counts.units}
    districts = []
    unserved: list[UnservedStreet] = []
    for name, streets in directory.streets_by_district():
        district_id = directory.districts[name].id
        person_times, on_duty = counts.on_duty.get(district_id, (0, 0))
        waiting = [s for s in streets if s.id not in served]
        unserved.extend(
            UnservedStreet(name, s.name, first_live.get(s.id), unit_names.get(s.unit_id))
            for s in waiting
        )
        districts.append(
            DistrictCounts(
                name,
                person_times,
                on_duty,
                counts.done.get(district_id, 0),
                len(streets),
                len(waiting),
            )
        )
    streets_total = sum(d.streets_total for d in districts)
    unit_of, streets_of = _streets_per_unit(directory)
    # unserved = a unit's streets less its served ones; fewer streets are served than not
    served_of = Counter(map(unit_of.get, served))
    units = [  # by name, as storage gives them; unpacked, as attributes cost 2,000 lookups
        UnitCounts(name, person_times, on_duty, people, total, total - served_of[uid])
        for uid, name, person_times, on_duty, people in counts.units
        for total in (streets_of[uid],)
    ]
    none = counts.no_unit
    no_unit = UnitCounts("", none.person_times, none.on_duty, none.people, 0, 0) if none else None
    return Tally(
        incident=incident,
        person_times=sum(d.person_times for d in districts),
        on_duty=sum(d.on_duty for d in districts),
        people=counts.people,
        tasks=counts.tasks,
        streets_total=streets_total,
        streets_served=streets_total - len(unserved),
        districts=districts,
        unserved_streets=unserved,
        at=at,
        assigned=counts.assigned,
        reports=counts.reports or ReportCounts(),
        units=units,
        no_unit=no_unit,
    )


# a city's streets per unit change only when a gazetteer is imported, which makes a new
# Directory: counted once per Directory, not at every tally
_PER_UNIT: weakref.WeakKeyDictionary[Directory, tuple[dict[int, int], Counter[int | None]]] = (
    weakref.WeakKeyDictionary()
)


def _streets_per_unit(directory: Directory) -> tuple[dict[int, int], Counter[int | None]]:
    """(street id -> its unit id, for streets with one; unit id -> how many streets)."""
    found = _PER_UNIT.get(directory)
    if found is None:
        unit_of = {s.id: s.unit_id for s in directory.streets if s.unit_id is not None}
        found = _PER_UNIT[directory] = (unit_of, Counter(unit_of.values()))
    return found


def tally_json_text(tally: Tally) -> str:
    """`snowbot tally --json`'s line (without its newline); the overview's /api/tally too."""
    return json.dumps(tally.as_json(), ensure_ascii=False)
