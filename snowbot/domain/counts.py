"""What the tally, the exports and the overview count: the records they are built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from snowbot.domain.model import Incident, TaskStatus

if TYPE_CHECKING:  # the records of residents' reports use Task: imported the other way
    from snowbot.domain.residents import ReportCounts


@dataclass(frozen=True)
class DistrictCounts:
    district: str
    person_times: int
    on_duty: int
    tasks_done: int
    streets_total: int
    streets_unserved: int


@dataclass(frozen=True)
class DistrictDetail:
    """What a district dispatcher's /tally adds to the district's line (docs/commands.md "Everyone
    affected hears it")."""

    assigned: int  # on duty there and holding places on live tasks
    tasks: dict[TaskStatus, int]
    reports_open: int
    reports_tasked: int


@dataclass(frozen=True)
class UnservedStreet:
    district: str
    street: str
    open_task: int | None
    unit: str | None = None  # the unit responsible for it


@dataclass(frozen=True)
class TallyCounts:
    """What the database counts for the tally, all from one moment.

    The city's streets are known to the domain already; with these, it makes
    every figure of the tally (`snowbot.domain.tally.compute_tally`).
    """

    incident: Incident
    people: int
    tasks: dict[TaskStatus, int]
    on_duty: dict[int, tuple[int, int]]  # district id -> (person-times, on duty)
    done: dict[int, int]  # district id -> tasks done
    served: frozenset[int]  # street ids served
    first_live: dict[int, int]  # street id -> its oldest open or in-progress task
    assigned: int = 0  # people on duty holding places on live tasks (docs/commands.md "Places")
    reports: ReportCounts | None = None  # residents' reports (None: counted as all zero)
    # every unit by name, with its kept counters (zeros for a unit nobody turned out for yet)
    units: list[UnitTurnout] = field(default_factory=list)
    no_unit: UnitTurnout | None = None  # the shifts of cadres without a unit


@dataclass(frozen=True)
class Recount:
    """The tally's totals added up again from the raw rows, with no counters (for checking)."""

    person_times: int
    on_duty: int
    people: int
    tasks: dict[TaskStatus, int]
    streets_total: int
    streets_served: int
    district_person_times: list[tuple[str, int]]  # every district by name, with its turnout
    unit_person_times: list[tuple[str, int]] = field(default_factory=list)  # every unit, by name
    no_unit_person_times: int = 0


@dataclass(frozen=True)
class DayCounts:
    """What happened between two moments of one incident (the daily summary)."""

    person_times: int  # headcounts of the shifts that began in the window
    tasks_done: int
    streets_served: int
    busiest_district: str | None
    busiest_person_times: int
    units: list[tuple[str, int]] = field(default_factory=list)  # unit -> its turnout then


@dataclass(frozen=True)
class ShiftExportRow:
    id: int
    user_id: int
    name: str
    headcount: int
    district: str
    street: str
    lat: float
    lon: float
    started_at: float
    ended_at: float | None
    placed: int = 0  # places the shift holds now (docs/commands.md "Places")
    unit: str | None = None  # the cadre's unit when the shift opened


@dataclass(frozen=True)
class TaskExportRow:
    id: int
    district: str
    street: str
    needed: int
    accepted: int
    status: str
    created_by: int
    created_at: float
    done_at: float | None
    note: str
    unit: str | None = None  # the street's unit


class UnitTurnout(NamedTuple):
    """A unit's kept counters in one incident (id 0, name "": the cadres without a unit).

    A named tuple: the tally makes one per unit, 2,000 of them, every time it counts."""

    unit_id: int
    name: str
    person_times: int
    on_duty: int
    people: int


@dataclass(frozen=True)
class StreetStates:
    """Street ids by state (every other street of the city is unserved)."""

    served: frozenset[int]
    in_progress: frozenset[int]  # a live task someone accepted
    open: frozenset[int]  # live tasks nobody accepted yet


@dataclass(frozen=True)
class HourTurnout:
    """Headcounts of one district's shifts started and ended in one hour (epoch hours)."""

    district_id: int
    hour: int
    started: int
    ended: int
