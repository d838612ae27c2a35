"""Places on tasks (docs/commands.md "Places"): accepting for a shift's people, releasing, and
what a task left with nobody owes its dispatcher and its district's groups."""

from __future__ import annotations

from collections.abc import Sequence

from snowbot.domain.messages import Outgoing
from snowbot.domain.model import Task, TaskStatus
from snowbot.domain.places import PlaceChange, Placement, PlaceOutcome, Reopen
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.service.listing import TaskListing
from snowbot.service.results import Person
from snowbot.text.texts import catalog


class PlaceService(TaskListing):
    async def accept(
        self, person: Person, task_id: int, wanted: int | None = None, origin: int | None = None
    ) -> PlaceChange:
        """Take places on a task for the person's shift: `wanted`, or as many as the task
        still needs, at most the shift's people not placed yet.

        `origin`: the update that asked; delivered again after a crash, it takes nothing
        twice ("already").
        """
        self.require(person, Role.CADRE)
        incident = await self.incident()
        change = await self.store.take_places(
            incident.id, task_id, person.id, wanted, self.clock(), origin
        )
        if change.outcome != PlaceOutcome.TAKEN or change.task is None:
            raise place_refusal(change, task_id)
        return change

    async def release(
        self, person: Person, task_id: int, wanted: int | None = None, origin: int | None = None
    ) -> PlaceChange:
        """Give back `wanted` (default: all) of the shift's places on a task, without
        finishing it; a task left with nobody is open again and announced again. `origin`
        as in `accept`."""
        self.require(person, Role.CADRE)
        incident = await self.incident()
        task = await self.store.get_task(incident.id, task_id)
        reopen = await self.reopen_notices([task] if task else [], f"release:{person.id}")
        change = await self.store.release_places(
            incident.id, task_id, person.id, wanted, self.clock(), reopen, origin
        )
        if change.outcome == PlaceOutcome.REPEATED:
            raise Refused("places.repeated", id=task_id)
        if change.outcome == PlaceOutcome.NOT_ON_DUTY:  # off duty: no places to give back
            raise Refused("places.not_holding", id=task_id)
        if change.outcome != PlaceOutcome.RELEASED or change.task is None:
            raise place_refusal(change, task_id)
        return change

    async def placement(self, person: Person) -> Placement | None:
        """Where the person's shift's people are; None when not on duty."""
        incident = await self.incident()
        return await self.store.placement(incident.id, person.id)

    async def held_tasks(self, user_id: int) -> list[Task]:
        """The live tasks this person's shift holds places on."""
        incident = await self.incident()
        return await self.store.held_tasks(incident.id, user_id)

    async def reopen_notices(self, tasks: Sequence[Task], why: str) -> Reopen:
        """What each task owes if it is left with nobody: its district's groups see it
        again (as it is when sent, with its buttons) and its dispatcher is told.

        Made before the change, queued by storage only for the tasks it reopened.
        """
        stamp = round(self.clock() * 1000)
        notices: dict[int, list[Outgoing]] = {}
        for task in tasks:
            if task.status not in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS):
                continue
            key = f"reopen:{task.id}:{why}:{stamp}"
            messages = [
                Outgoing(
                    key,
                    chat,
                    await self.chat_language(chat),
                    task_id=task.id,
                    template="places.reannounce",
                )
                for chat in await self.chats_for_district(task.district_id)
            ]
            lang = await self.chat_language(task.created_by)
            text = catalog(lang)(
                "places.reopened", id=task.id, street=task.street, district=task.district
            )
            messages.append(Outgoing(key, task.created_by, lang, text=text))
            notices[task.id] = messages
        return notices


def place_refusal(change: PlaceChange, task_id: int) -> Refused:
    """The reply to an accept or release that did not take effect."""
    task = change.task
    params: dict[str, object] = {"id": task_id, "needed": task.needed if task else 0}
    if change.outcome == PlaceOutcome.NOT_ON_DUTY:
        return Refused("accept.not_on_duty", **params)
    if task is None or change.outcome == PlaceOutcome.UNKNOWN:
        return Refused("task.unknown", **params)
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return Refused(f"task.is_{task.status.value}", **params)
    if change.outcome in (PlaceOutcome.ALREADY, PlaceOutcome.REPEATED):
        return Refused("accept.already", **params)
    if change.outcome == PlaceOutcome.ALL_PLACED:
        held = change.placement.held if change.placement else ()
        return Refused(
            "places.all_placed",
            id=task_id,
            count=change.placement.headcount if change.placement else 0,
            held=" ".join(f"#{t}×{n}" for t, n in held),
        )
    if change.outcome == PlaceOutcome.NOT_HOLDING:
        return Refused("places.not_holding", id=task_id)
    return Refused("accept.full", **params)
