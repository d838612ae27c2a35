"""Places (docs/commands.md "Places"): what a shift holds on live tasks, up to its headcount.

Accepting takes places for the accepter's shift, releasing gives them back; a shift that
ends gives back all it holds, and a task left with nobody is open again. The database
holds both bounds (no task over its need, no shift over its headcount); these are the
words the service and storage share about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Task


class PlaceOutcome(StrEnum):
    TAKEN = "taken"
    RELEASED = "released"
    NOT_ON_DUTY = "not_on_duty"
    ALREADY = "already"  # holds places on this task, and can take no more there
    FULL = "full"  # the task has all the people it needs
    ALL_PLACED = "all_placed"  # every person of the shift holds a place elsewhere
    NOT_HOLDING = "not_holding"  # a release of a task the shift holds no place on
    CLOSED = "closed"  # done or cancelled
    UNKNOWN = "unknown"  # no such task in this incident
    REPEATED = "repeated"  # the same update, delivered again: it moved its places already


@dataclass(frozen=True)
class Placement:
    """Where a shift's people are: its headcount, and its places on live tasks."""

    headcount: int
    held: tuple[tuple[int, int], ...]  # (task id, places), oldest first

    @property
    def placed(self) -> int:
        return sum(count for _, count in self.held)

    @property
    def free(self) -> int:
        return self.headcount - self.placed

    def on(self, task_id: int) -> int:
        return next((count for held, count in self.held if held == task_id), 0)


@dataclass(frozen=True)
class PlaceChange:
    """An accept or release: what happened, how many places moved, the task and the
    shift's placement after it."""

    outcome: PlaceOutcome
    task: Task | None
    moved: int = 0
    placement: Placement | None = None
    reopened: bool = False  # a release left the task with nobody: it is open again


# Messages owed when a task is left with nobody, by task id: queued only for the tasks
# the transaction really reopened
Reopen = Mapping[int, Sequence[Outgoing]]


class PlaceStore(Protocol):
    """Places on tasks; every method is one transaction that holds both bounds."""

    async def take_places(
        self,
        incident_id: int,
        task_id: int,
        user_id: int,
        wanted: int | None,
        now: float,
        origin: int | None = None,
    ) -> PlaceChange: ...
    async def release_places(
        self,
        incident_id: int,
        task_id: int,
        user_id: int,
        wanted: int | None,
        now: float,
        reopen: Reopen | None = None,
        origin: int | None = None,
    ) -> PlaceChange: ...
    async def placement(self, incident_id: int, user_id: int) -> Placement | None: ...
    async def held_tasks(self, incident_id: int, user_id: int) -> list[Task]: ...


def places_to_take(free: int, needs: int, wanted: int | None) -> int:
    """How many places an accept takes: `wanted`, or all the task still needs, never more
    than the task needs or the shift has people free. None or fewer: it takes nothing.

    Storage calls it inside the accept's transaction, on counts read in that transaction;
    the database's checks still hold both bounds."""
    return min(free, needs, needs if wanted is None else wanted)


def places_to_give_back(held: int, wanted: int | None) -> int:
    """How many places a release gives back: `wanted`, or all the shift holds on the task,
    never more than it holds."""
    return min(held, held if wanted is None else wanted)
