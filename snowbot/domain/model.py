"""The domain's vocabulary: the records the service works with and storage keeps.

Storage reads and writes these; it depends on them, never the reverse. Times are UTC
epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from snowbot.domain.messages import SentCopy
from snowbot.domain.roles import Role


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
class EndedShift:
    """A shift an incident's end closed: whom to tell, in which language, what it counted."""

    user_id: int
    language: str | None
    headcount: int
    started_at: float


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
    sent to dispatchers, how many task proposals it withdrew, and the sent messages that offered
    them (edited to say they were withdrawn)."""

    incident: Incident
    shifts: tuple[EndedShift, ...]
    reporters: tuple[tuple[int, str | None, int], ...]
    teams: tuple[WithdrawnTeam, ...]
    proposals: int
    proposal_copies: tuple[SentCopy, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """A geocoded /newtask waiting for its dispatcher to confirm it."""

    dispatcher_id: int
    street_id: int
    needed: int
    note: str
    created_at: float


# -- units (单位包保) -------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A bureau, company or community that cadres come from and that answers for streets."""

    id: int
    name: str


# -- the one-screen overview -----------------------------------------------------------
