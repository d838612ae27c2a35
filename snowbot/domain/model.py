"""The domain's vocabulary: the records the service works with and storage keeps.

Storage reads and writes these; it depends on them, never the reverse. Times are UTC
epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from snowbot.domain.roles import Role

if TYPE_CHECKING:  # the records of residents' reports use Task: imported the other way
    from snowbot.domain.residents import ReportCounts


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Incident:
    id: int
    name: str
    started_at: float
    ended_at: float | None


@dataclass(frozen=True)
class User:
    id: int
    name: str
    username: str | None
    language: str | None
    role: Role  # as stored; config coordinators are coordinators whatever it says
    district_id: int | None
    registered: bool


@dataclass(frozen=True)
class District:
    id: int
    name: str


@dataclass(frozen=True)
class Street:
    id: int
    district_id: int
    district: str
    name: str
    lat: float
    lon: float
    unit_id: int | None = None  # the unit responsible for it (包保), if any


Lines = tuple[tuple[tuple[float, float], ...], ...]  # parts of (lat, lon) vertices


@dataclass(frozen=True)
class StreetRow:
    """One street as read from a gazetteer file, before it has an id.

    A CSV street is a point; a GeoJSON street has `lines`, and lat/lon is then
    the point halfway along them.
    """

    district: str
    name: str
    lat: float
    lon: float
    lines: Lines | None = None
    # the unit responsible for it: None when the file has no unit column (the street's unit
    # stays as it is), "" for a street the file gives no unit
    unit: str | None = None


@dataclass(frozen=True)
class ImportCounts:
    added: int
    moved: int
    unchanged: int
    reassigned: int = 0  # streets already known whose unit changed
    units_added: int = 0  # units the file named that were not known yet


@dataclass(frozen=True)
class Shift:
    id: int
    incident_id: int
    user_id: int
    headcount: int
    district_id: int
    street_id: int
    lat: float
    lon: float
    started_at: float
    ended_at: float | None
    welfare_from: float  # when this stretch on duty began: max_shift counts from here
    located_at: float  # when its position was last reported


class CheckInKind(StrEnum):
    OPENED = "opened"  # a new shift: person-times grow by its headcount
    UPDATED = "updated"  # already on duty: only the position moved
    REJOINED = "rejoined"  # back within the rejoin window: the old shift reopens
    WAITING = "waiting"  # a large team: it waits for a dispatcher's confirmation
    LIMITED = "limited"  # too many new shifts this hour: nothing changed


@dataclass(frozen=True)
class TeamRequest:
    """A team check-in above `max_team_unconfirmed`, waiting for a dispatcher."""

    id: int
    incident_id: int
    user_id: int
    headcount: int
    district_id: int
    street_id: int
    lat: float
    lon: float
    asked_at: float
    decision: str | None  # None (waiting), "confirmed", "refused" or "replaced"


@dataclass(frozen=True)
class CheckIn:
    """What a shared location did: a shift (opened, updated, rejoined), or a team waiting."""

    kind: CheckInKind
    shift: Shift | None
    request: TeamRequest | None = None


@dataclass(frozen=True)
class Resized:
    """A leader's new headcount on duty (docs/commands.md "Everyone affected hears it"): "grown",
    "shrunk", "waiting" (for a dispatcher: `request`), "same" or "not_on_duty"; the places given
    back on tasks."""

    outcome: str
    old: int
    new: int
    request: TeamRequest | None = None
    gave_back: tuple[int, ...] = ()


class TeamOutcome(StrEnum):
    CONFIRMED = "confirmed"  # the shift opened: it counts from now
    REFUSED = "refused"
    DECIDED = "decided"  # not waiting any more: decided before, or replaced
    ON_DUTY = "on_duty"  # the leader is on duty with another shift: nothing opened
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TeamDecision:
    outcome: TeamOutcome
    request: TeamRequest | None
    shift: Shift | None = None


@dataclass(frozen=True)
class Invitation:
    """An invitation link's code: whoever starts the bot with it becomes a cadre."""

    code: str
    district_id: int | None
    created_by: int
    created_at: float
    expires_at: float
    uses: int
    uses_left: int
    ended_at: float | None


class JoinOutcome(StrEnum):
    JOINED = "joined"
    MEMBER = "member"  # a cadre or more already: nothing changed, no use taken
    EXPIRED = "expired"
    USED_UP = "used_up"
    UNKNOWN = "unknown"  # no such code, or ended with /uninvite


class Turn(StrEnum):
    """A process asking for its turn to handle one of a person's updates (webhooks)."""

    TAKEN = "taken"  # this process handles it now
    WAIT = "wait"  # an older update of theirs is unhandled, or another process has the turn
    HANDLED = "handled"  # handled already: nothing to do


@dataclass(frozen=True)
class Joined:
    outcome: JoinOutcome
    invitation: Invitation | None


@dataclass(frozen=True)
class Task:
    id: int
    incident_id: int
    street_id: int
    street: str
    district_id: int
    district: str
    lat: float
    lon: float
    needed: int
    accepted: int
    status: TaskStatus
    note: str
    created_by: int
    created_at: float
    done_at: float | None
    origin: int | None = None  # the update that posted it (a redelivery finds it again)
    urgent: bool = False  # listed first, escalated after half the usual wait
    done_by: int | None = None  # who marked it done, or cancelled it (`done_at`: when)


class AcceptOutcome(StrEnum):
    ACCEPTED = "accepted"
    ALREADY = "already"  # this user had already joined
    FULL = "full"
    CLOSED = "closed"  # done or cancelled
    UNKNOWN = "unknown"  # no such task in this incident


class CloseOutcome(StrEnum):
    DONE = "done"
    CANCELLED = "cancelled"
    ALREADY = "already"  # already in that state
    CLOSED = "closed"  # in the other final state
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TaskChange:
    """The result of an accept, done or cancel: what happened and the task after it."""

    outcome: AcceptOutcome | CloseOutcome
    task: Task | None


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
class Binding:
    chat_id: int
    district_id: int | None  # None: the city-wide reports ("/bind all")
    bound_by: int = 0
    title: str = ""


# The outbox's lanes, first served first under Telegram's rate limit (`handlers.lanes`):
# replies to what someone just did, then task announcements, then bulk notices
LANE_REPLY = 0
LANE_ANNOUNCE = 1
LANE_NOTICE = 2


@dataclass(frozen=True)
class Outgoing:
    """A message the bot owes a chat. It is queued in the transaction that caused it.

    Either `text`, sent as it is (with `markup`, Bot API JSON, if any), or a `task_id`
    with a catalog `template` whose {task} is filled in when it is sent, so the task
    shows as it is then, with its buttons. `(key, chat_id)` is queued at most once.
    """

    key: str
    chat_id: int
    lang: str
    text: str | None = None
    task_id: int | None = None
    template: str | None = None
    markup: str | None = None
    # a six-day storm: a file of `incident_id`'s export ("shifts.csv"), made when it is
    # sent, with `text` as its caption; and a report that drops the older messages still
    # waiting for the same chat whose keys begin with `supersedes` ("tally:")
    document: str | None = None
    incident_id: int | None = None
    supersedes: str | None = None
    # the lane (see LANE_REPLY); None: by what it is (`lane_of`)
    lane: int | None = None
    # a message already sent to the chat that this one replaces (its text edited, its
    # buttons gone), instead of a new message: a decision shown where it was asked
    edit_of: int | None = None
    # a photo already on Telegram (its file id), sent with `text` as its caption
    photo: str | None = None


def lane_of(message: Outgoing) -> int:
    """A message's lane: as given, or a reply's (its key begins "reply:"), a task
    announcement's, or else a notice's."""
    if message.lane is not None:
        return message.lane
    if message.key.startswith("reply:"):
        return LANE_REPLY
    return LANE_ANNOUNCE if message.task_id is not None else LANE_NOTICE


@dataclass(frozen=True)
class EndedShift:
    """A shift an incident's end closed: whom to tell, in which language, what it counted."""

    user_id: int
    language: str | None
    headcount: int
    started_at: float


@dataclass(frozen=True)
class SentCopy:
    """A message sent to a chat (to be edited once its question is decided or withdrawn)."""

    chat_id: int
    language: str
    message_id: int


@dataclass(frozen=True)
class Holder:
    """Someone whose shift held places on a task as it was marked done (docs/commands.md "Everyone
    affected hears it")."""

    user_id: int
    language: str | None
    count: int  # places held
    headcount: int  # their shift's


@dataclass(frozen=True)
class WithdrawnTeam:
    """A team request an incident's end withdrew: its leader, and its copies sent."""

    request: TeamRequest
    language: str | None  # the leader's
    name: str  # the leader's
    copies: tuple[SentCopy, ...]


@dataclass(frozen=True)
class Ending:
    """What an incident's end touched, read in the transaction that ends it (docs/commands.md
    "Everyone affected hears it"): the shifts it closed, the reporters of reports still open or
    tasked (user, language, report), the team requests it withdrew with the copies of each request
    sent to dispatchers, and how many task proposals it withdrew."""

    incident: Incident
    shifts: tuple[EndedShift, ...]
    reporters: tuple[tuple[int, str | None, int], ...]
    teams: tuple[WithdrawnTeam, ...]
    proposals: int


@dataclass(frozen=True)
class Proposal:
    """A geocoded /newtask waiting for its dispatcher to confirm it."""

    dispatcher_id: int
    street_id: int
    needed: int
    note: str
    created_at: float


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
class OutboxItem:
    id: int
    message: Outgoing
    attempts: int
    lane: int = LANE_NOTICE  # as queued (`lane_of`)


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


# -- units (单位包保) -------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A bureau, company or community that cadres come from and that answers for streets."""

    id: int
    name: str


class UnitTurnout(NamedTuple):
    """A unit's kept counters in one incident (id 0, name "": the cadres without a unit).

    A named tuple: the tally makes one per unit, 2,000 of them, every time it counts."""

    unit_id: int
    name: str
    person_times: int
    on_duty: int
    people: int


# -- the one-screen overview -----------------------------------------------------------


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
