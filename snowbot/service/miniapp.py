"""The Mini App (docs/commands.md "The Mini App"): what each role sees in it, and the doors through
which it acts.

The app reads through the service like the overview does; it acts only through `Actions`,
which the Telegram adapter supplies (`handlers.miniapp`): each act is handled as one of
the person's updates, in their turn and in one transaction with its replies queued, by
the same handlers as the chat's buttons and commands. So the app and the chat never
disagree. Nothing here knows HTTP or Telegram.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from snowbot.domain import limits
from snowbot.domain.model import Task, User
from snowbot.domain.roles import Role, effective_role
from snowbot.service import Person, Snowbot
from snowbot.service.init_data import AppUser
from snowbot.text.texts import catalog

APP_TASKS = 30  # tasks listed and mapped for a cadre, nearest first
LIVE_KEPT = 2.0  # seconds the live tasks are kept between changes (see `live_tasks`)
APP_PROOFS = 30  # the latest done tasks with a proof photo, for a dispatcher
APP_STREETS = 3000  # unserved streets mapped for a dispatcher (a district's, rarely more)
# what the app may ask for; each is the chat's button of the same name
PRESSES = frozenset({"accept", "release", "done", "make_task", "dismiss"})


@dataclass(frozen=True)
class Outcome:
    """What an act did, as the chat would have said it: `ok` False for a refusal."""

    ok: bool
    text: str
    task_id: int | None = None


class Actions(Protocol):
    """The app's acts, each handled as one of the person's updates (`handlers.miniapp`)."""

    async def press(self, user: AppUser, press: str, number: int) -> Outcome:
        """A button of the chat's pressed: one of `PRESSES` on a task's or report's id."""
        ...

    async def post(self, user: AppUser, street_id: int, needed: int) -> Outcome:
        """`/newtask STREET_ID NEEDED`, as a dispatcher would type it."""
        ...


class Photos(Protocol):
    """A photo Telegram keeps, by its file id (`handlers.photos`): bytes, or None."""

    async def photo(self, file_id: str) -> bytes | None: ...


@dataclass(frozen=True)
class MiniApp:
    """What the composition root hands the overview's server to serve the app."""

    bot_token: str
    actions: Actions
    photos: Photos | None = None


async def person_of(service: Snowbot, user: AppUser) -> Person:
    """The person behind an initData; someone who never wrote to the bot is a guest
    (or a coordinator, who is one by the config alone). Reading registers nobody."""
    found = await service.person(user.id)
    if found is not None:
        return found
    stranger = User(user.id, user.full_name, user.username, None, Role.GUEST, None, False)
    return Person(stranger, effective_role(Role.GUEST, user.id, service.config.coordinators))


def texts(language: str) -> dict[str, str]:
    """The app's words (catalog section `app`) and the roles' names, for its script."""
    t = catalog(language)
    found = {k.removeprefix("app."): v for k, v in t.texts.items() if k.startswith("app.")}
    found.update({f"role_{r.key}": t(f"role.{r.key}") for r in Role})
    return found


def _task(task: Task, km: float | None, mine: int) -> dict[str, Any]:
    return {
        "id": task.id,
        "street": task.street,
        "district": task.district,
        "lat": task.lat,
        "lon": task.lon,
        "needed": task.needed,
        "accepted": task.accepted,
        "status": task.status.value,
        "urgent": task.urgent,
        "note": task.note,
        "km": None if km is None else round(km, 2),
        "mine": mine,
    }


async def cadre_view(service: Snowbot, person: Person) -> dict[str, Any]:
    """On duty or not, the nearest live tasks (and every task the shift holds places on)."""
    placement = await service.placement(person)
    shift = await service.on_duty(person) if placement is not None else None
    listed = await nearest_tasks(service, shift.lat, shift.lon) if shift else None
    if listed is None:
        listed = [(n.task, n.km) for n in (await service.tasks_for(person))[:APP_TASKS]]
    held = {task_id for task_id, _ in placement.held} if placement else set()
    shown = {task.id for task, _ in listed}
    tasks = [_task(task, km, placement.on(task.id) if placement else 0) for task, km in listed]
    if placement is not None:  # a held task far away still needs its Release and Done
        for task in await service.held_tasks(person.id):
            if task.id not in shown:
                tasks.append(_task(task, None, placement.on(task.id)))
    return {
        "on_duty": placement is not None,
        "headcount": placement.headcount if placement else 0,
        "free": placement.free if placement else 0,
        "position": [shift.lat, shift.lon] if shift is not None else None,
        "tasks": tasks,
        "held": sorted(held),
    }


@dataclass
class _Kept:
    version: int
    at: float
    tasks: list[Task]


_kept: WeakKeyDictionary[Snowbot, _Kept] = WeakKeyDictionary()


async def live_tasks(service: Snowbot) -> list[Task]:
    """The live tasks, read once for every cadre's app between two changes: thousands of
    phones asking every few seconds read the database once. Kept at most `LIVE_KEPT`
    seconds, for changes made by another process (several webhook processes)."""
    kept, now = _kept.get(service), time.monotonic()
    if kept is not None and kept.version == service.changes.version and now - kept.at < LIVE_KEPT:
        return kept.tasks
    version = service.changes.version  # before the read: a change meanwhile reads again
    tasks = [n.task for n in await service.nearby_tasks(None, None)]
    _kept[service] = _Kept(version, now, tasks)
    return tasks


async def nearest_tasks(
    service: Snowbot, lat: float, lon: float, count: int = APP_TASKS
) -> list[tuple[Task, float | None]]:
    """The first `count` live tasks in /tasks's order (urgent ones first, then nearest),
    measured only around the position: in a big city with many tasks, /tasks ranks every
    task and the app, asked every few seconds, cannot."""
    live = await live_tasks(service)
    directory = service.directory
    urgent = []
    for task in (t for t in live if t.urgent):
        km = directory.distance_km(task.street_id, lat, lon, exact=False)
        urgent.append((task, km))
    urgent.sort(key=lambda pair: (pair[1] if pair[1] is not None else math.inf, pair[0].id))
    by_street: dict[int, list[Task]] = {}
    for task in live:
        if not task.urgent:
            by_street.setdefault(task.street_id, []).append(task)
    near = directory.index.nearest_among(lat, lon, by_street, count)
    ranked: list[tuple[Task, float | None]] = list(urgent)
    for street_id, km in near:
        ranked.extend((task, km) for task in sorted(by_street[street_id], key=lambda t: t.id))
        if len(ranked) >= count:
            break
    return ranked[:count]


async def dispatcher_view(service: Snowbot, person: Person) -> dict[str, Any]:
    """The district's (or, unbound, the city's) unserved streets and open reports."""
    own = person.user.district_id if person.role == Role.DISPATCHER else None
    reports, district = await service.open_reports(person, "")
    _, states = await service.street_layer()
    taken = states.served | states.in_progress | states.open
    streets = [
        {"id": s.id, "name": s.name, "district": s.district, "lat": s.lat, "lon": s.lon}
        for s in service.directory.streets
        if s.id not in taken and (own is None or s.district_id == own)
    ]
    proofs = await service.proof_photos(person, APP_PROOFS)
    return {
        "district": district,
        "done": [_task(task, None, 0) for task, _ in proofs],
        "unserved_total": len(streets),
        "unserved": streets[:APP_STREETS],
        "reports": [
            {
                "id": r.id,
                "street": r.street,
                "district": r.district,
                "lat": r.lat,
                "lon": r.lon,
                "text": r.text,
                "reporters": r.reporters,
                "photo": r.photo_file_id is not None,
            }
            for r in reports[: limits.REPORTS_LISTED * 10]
        ],
    }


async def view(service: Snowbot, user: AppUser) -> dict[str, Any]:
    """Everything the app shows this person now, by their role."""
    person = await person_of(service, user)
    language = service.language_of(person if person.user.registered else None)
    if not person.user.registered and (user.language_code or "").startswith("en"):
        language = "en"
    found: dict[str, Any] = {
        "role": person.role.key,
        "lang": language,
        "texts": texts(language),
        "city": service.config.city.display_name(language),
    }
    if person.role >= Role.CADRE:
        found["cadre"] = await cadre_view(service, person)
    if person.role >= Role.DISPATCHER:
        found["dispatcher"] = await dispatcher_view(service, person)
    found["overview"] = person.role >= Role.COORDINATOR and service.config.dashboard.enabled
    return found


async def may_see_proof(service: Snowbot, user: AppUser, task_id: int) -> str | None:
    """The file id of a done task's proof photo, for a dispatcher who may see the task."""
    person = await person_of(service, user)
    if person.role < Role.DISPATCHER:
        return None
    proofs = await service.proof_photos(person, 10_000)
    return next((file_id for task, file_id in proofs if task.id == task_id), None)


async def may_see_report_photo(service: Snowbot, user: AppUser, report_id: int) -> str | None:
    """The file id of an open report's photo, for a dispatcher who may see the report."""
    person = await person_of(service, user)
    if person.role < Role.DISPATCHER:
        return None
    reports, _ = await service.open_reports(person, "")
    return next((r.photo_file_id for r in reports if r.id == report_id), None)
