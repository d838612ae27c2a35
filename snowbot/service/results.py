"""What the service's operations return, and how typed words become numbers and ids."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from snowbot.domain import limits
from snowbot.domain.messages import Binding
from snowbot.domain.model import (
    AcceptOutcome,
    CheckInKind,
    CloseOutcome,
    Shift,
    Street,
    Task,
    TaskStatus,
    TeamRequest,
    User,
)
from snowbot.domain.numerals import PEOPLE_WORDS, count_text, is_count
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role


@dataclass(frozen=True)
class Person:
    """A user with the role they hold right now."""

    user: User
    role: Role

    @property
    def id(self) -> int:
        return self.user.id


@dataclass(frozen=True)
class NearbyTask:
    task: Task
    km: float | None


@dataclass(frozen=True)
class CheckInResult:
    """A shift opened, updated or rejoined; or (kind WAITING) a team's `request`."""

    kind: CheckInKind
    shift: Shift | None
    street: Street
    km: float
    nearby: list[NearbyTask]
    request: TeamRequest | None = None


@dataclass(frozen=True)
class Revoked:
    """A role taken back: what the person is now, the groups they had bound, and how many
    of their invitation links were ended."""

    user_id: int
    role: Role
    groups: list[Binding]
    invitations_ended: int = 0


@dataclass(frozen=True)
class CheckOutResult:
    shift: Shift
    seconds: float
    gave_back: list[int] = field(default_factory=list)  # tasks it held places on


@dataclass(frozen=True)
class Posted:
    task: Task
    chats: list[int]  # groups bound to its district, where it is announced


@dataclass(frozen=True)
class Proposed:
    """A /newtask name the geocoder placed near a street: posted once its dispatcher confirms."""

    id: int
    query: str
    street: Street
    km: float
    needed: int
    # set when the street was named exactly but already has this live task, posted moments
    # ago: the same /newtask sent twice, or by two dispatchers; posted only if confirmed
    duplicate_of: Task | None = None


@dataclass(frozen=True)
class Reopened:
    """/reopen took effect: the task open again, and whether its street is unserved again."""

    task: Task
    unserved: bool


@dataclass(frozen=True)
class Suggested:
    """A /newtask street no one knows, in a private chat: the streets it may mean, each a
    proposal that one press posts (docs/commands.md "Chinese as people type it"), and the name the
    bot read."""

    name: str
    proposals: list[Proposed]


@dataclass(frozen=True)
class Changed:
    """An accept, done or cancel that took effect, and the task after it."""

    task: Task
    outcome: AcceptOutcome | CloseOutcome


@dataclass(frozen=True)
class Granted:
    """A role given with /grant: to whom, which, and the district it is bound to, if any."""

    user_id: int
    role: Role
    district: str | None


_NUMERIC = re.compile(r"[-+]?[\d.,eE]*\d[\d.,eE]*")


def looks_numeric(text: str) -> bool:
    """A number, or a count as people type it ("3人", "三", "俩"): read as a count (and
    refused if it is none), never as part of a name."""
    return bool(_NUMERIC.fullmatch(text)) or is_count(text)


def needed_and_note(rest: list[str]) -> tuple[int, str]:
    """What follows the street in /newtask: [N [人|名|个人]] [NOTE…]."""
    needed = 1
    if rest and looks_numeric(rest[0]):
        needed = _check_count_text(count_text(rest[0]), limits.MAX_NEEDED, "newtask.bad_count")
        rest = rest[1:]
        if rest and rest[0] in PEOPLE_WORDS:  # "3 人": the measure word typed apart
            rest = rest[1:]
    note = " ".join(rest)
    if len(note) > limits.MAX_NOTE:
        raise Refused("refuse.too_long", limit=limits.MAX_NOTE)
    return needed, note


def _check_count_text(text: str, limit: int, key: str) -> int:
    if not re.fullmatch(r"\+?[0-9]{1,6}", text):  # ASCII only: "١٢٣" is refused, not read
        raise Refused(key, value=text[:20], max=limit)
    return check_count(int(text), limit, key)


def check_count(value: int, limit: int, key: str) -> int:
    if not 1 <= value <= limit:
        raise Refused(key, value=str(value)[:20], max=limit)
    return value


def parse_count(text: str, limit: int, key: str) -> int:
    """A whole number 1..limit typed by a user ("3", "三", "十五"), or a Refused naming `key`."""
    return _check_count_text(count_text(text.strip()), limit, key)


def parse_task_id(text: str) -> int:
    """A task id as typed: "12" or "#12"."""
    cleaned = text.strip().lstrip("#")
    if not re.fullmatch(r"\d{1,9}", cleaned):
        raise Refused("task.bad_id", text=text[:20])
    return int(cleaned)


def parse_user_id(text: str, usage: str) -> int:
    """A Telegram user id as typed in /grant or /revoke, or a Refused naming `usage`."""
    # ASCII digits only: str.isdigit() takes "²" (which int() refuses) and int() reads
    # "١٢٣" as 123, so a look-alike could name somebody else
    if not re.fullmatch(r"[0-9]{1,15}", text) or int(text) <= 0:
        raise Refused(usage)
    return int(text)


def task_refusal(outcome: AcceptOutcome | CloseOutcome, task_id: int, task: Task | None) -> Refused:
    """The reply to an accept, done or cancel that did not take effect."""
    params = {"id": task_id, "needed": task.needed if task else 0}
    if task is None or outcome in (AcceptOutcome.UNKNOWN, CloseOutcome.UNKNOWN):
        return Refused("task.unknown", **params)
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return Refused(f"task.is_{task.status.value}", **params)
    # the two enums share values ("already"), so tell them apart by type
    if isinstance(outcome, AcceptOutcome) and outcome == AcceptOutcome.ALREADY:
        return Refused("accept.already", **params)
    return Refused("accept.full", **params)
