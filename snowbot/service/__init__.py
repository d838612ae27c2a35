"""The snow-clearing service: every action of the bot as one call, refusals as `Refused`.

The Telegram adapter and the CLI both go through `Snowbot`; nothing here knows
about Telegram. Each state change is one storage transaction, and a result is
returned only after it committed. One part per feature: shifts, tasks, admin
(incidents, roles, groups, the numbers) and delivery (updates, the outbox).
"""

from __future__ import annotations

from snowbot.service.admin import AdminService
from snowbot.service.core import Clock
from snowbot.service.delivery import DeliveryService
from snowbot.service.enrolment import EnrolmentService, TeamMarkup
from snowbot.service.overview import OverviewService
from snowbot.service.results import (
    Changed,
    CheckInResult,
    CheckOutResult,
    Granted,
    NearbyTask,
    Person,
    Posted,
    Proposed,
    Revoked,
    parse_count,
    parse_task_id,
)
from snowbot.service.shifts import ShiftService
from snowbot.service.tasks import TaskService


class Snowbot(
    ShiftService, TaskService, AdminService, EnrolmentService, DeliveryService, OverviewService
):
    """The whole service; open one with `snowbot.wiring.open_service`."""


__all__ = [
    "Changed",
    "CheckInResult",
    "CheckOutResult",
    "Clock",
    "Granted",
    "NearbyTask",
    "Person",
    "Posted",
    "Proposed",
    "Revoked",
    "Snowbot",
    "TeamMarkup",
    "parse_count",
    "parse_task_id",
]
