"""The tally (README: "What it does, by role"): one computation behind /tally, the
reports, the CSV and `tally --json`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from snowbot.directory import Directory
from snowbot.model import DistrictCounts, Incident, TaskStatus, UnservedStreet
from snowbot.stores import CountStore


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

    @property
    def streets_unserved(self) -> int:
        return self.streets_total - self.streets_served

    def district(self, name: str) -> DistrictCounts | None:
        return next((d for d in self.districts if d.district == name), None)

    def as_json(self) -> dict[str, Any]:
        """Exactly the shape of `snowbot tally --json` (README: "Command line")."""
        return {
            "incident": self.incident.name,
            "person_times": self.person_times,
            "on_duty": self.on_duty,
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
                {"district": u.district, "street": u.street, "open_task": u.open_task}
                for u in self.unserved_streets
            ],
        }


async def compute_tally(
    store: CountStore, incident: Incident, at: float, directory: Directory
) -> Tally:
    """The tally of one incident: one snapshot of the database, over the city's streets."""
    counts = await store.tally_counts(incident)
    served, first_live = counts.served, counts.first_live
    districts = []
    unserved: list[UnservedStreet] = []
    for name, streets in directory.streets_by_district():
        district_id = directory.districts[name].id
        person_times, on_duty = counts.on_duty.get(district_id, (0, 0))
        waiting = [s for s in streets if s.id not in served]
        unserved.extend(UnservedStreet(name, s.name, first_live.get(s.id)) for s in waiting)
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
    total = sum(d.streets_total for d in districts)
    return Tally(
        incident=incident,
        person_times=sum(d.person_times for d in districts),
        on_duty=sum(d.on_duty for d in districts),
        people=counts.people,
        tasks=counts.tasks,
        streets_total=total,
        streets_served=total - len(unserved),
        districts=districts,
        unserved_streets=unserved,
        at=at,
    )


def tally_json_text(tally: Tally) -> str:
    """`snowbot tally --json`'s line (without its newline); the overview's /api/tally too."""
    return json.dumps(tally.as_json(), ensure_ascii=False)
