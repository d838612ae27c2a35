"""The snow-clearing service: every action of the bot as one call, refusals as `Refused`.

The Telegram adapter and the CLI both go through `Snowbot`; nothing here knows
about Telegram. Each state change is one storage transaction, and a result is
returned only after it committed. One part per feature: shifts, tasks, admin
(incidents, roles, groups, the numbers) and delivery (updates, the outbox).
"""

from __future__ import annotations

from snowbot.domain.residents import report_ref
from snowbot.service.admin import AdminService
from snowbot.service.core import Clock
from snowbot.service.delivery import DeliveryService
from snowbot.service.enrolment import EnrolmentService, TeamMarkup
from snowbot.service.overview import OverviewService
from snowbot.service.places import place_refusal
from snowbot.service.residents import ReportMarkup, ResidentService
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
    Suggested,
    parse_count,
    parse_task_id,
)
from snowbot.service.shifts import ShiftService
from snowbot.service.storm import StormService
from snowbot.service.tasks import TaskService
from snowbot.service.units import UnitChoice, UnitService


class Snowbot(
    ResidentService,
    ShiftService,
    TaskService,
    AdminService,
    EnrolmentService,
    StormService,
    UnitService,
    OverviewService,
    DeliveryService,
):
    """The whole service; open one with `snowbot.app.wiring.open_service`."""


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
    "ReportMarkup",
    "Revoked",
    "Snowbot",
    "Suggested",
    "TeamMarkup",
    "UnitChoice",
    "parse_count",
    "parse_task_id",
    "place_refusal",
    "report_ref",
]
