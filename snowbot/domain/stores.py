"""What the service asks of storage, one small interface per aggregate, in domain words.

An engine (`storage.sqlite`, `storage.postgres`) implements each of them; `Store` is
only their sum. Every method is one transaction and returns after it committed; what a
change owes a chat (`Outgoing`) is queued in that same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from snowbot.domain.counts import (
    DayCounts,
    DistrictDetail,
    HourTurnout,
    ShiftExportRow,
    StreetStates,
    TallyCounts,
    TaskExportRow,
)
from snowbot.domain.delivery_stores import ChatStore, InboxStore, OutboxStore, TurnStore
from snowbot.domain.messages import Outgoing, SentCopy
from snowbot.domain.model import (
    CheckIn,
    District,
    Ending,
    Holder,
    ImportCounts,
    Incident,
    Invitation,
    Joined,
    Lines,
    Proposal,
    Resized,
    Shift,
    Street,
    StreetRow,
    Task,
    TaskChange,
    TeamDecision,
    TeamRequest,
    Unit,
    User,
)
from snowbot.domain.places import PlaceStore, Reopen
from snowbot.domain.residents import (
    Report,
    ReportCounts,
    ReportDecision,
    Reporter,
    ReportExportRow,
    ReportMade,
    ReportWait,
)
from snowbot.domain.roles import Role


class IncidentStore(Protocol):
    async def current_incident(self, default_name: str, now: float) -> Incident: ...
    async def start_incident(
        self,
        name: str,
        now: float,
        origin: int | None = None,
        closed_by: int | None = None,
        tell: Callable[[Ending], Sequence[Outgoing]] | None = None,
    ) -> tuple[Incident | None, Incident]: ...


class PeopleStore(Protocol):
    async def register_user(
        self,
        user_id: int,
        name: str,
        username: str | None,
        language: str | None,
        now: float,
        member: bool = False,
    ) -> User: ...
    async def get_user(self, user_id: int) -> User | None: ...
    async def set_language(self, user_id: int, language: str) -> None: ...
    async def set_role(
        self, user_id: int, role: Role, district_id: int | None, now: float
    ) -> User: ...
    async def users_with_role(self, role: Role) -> list[User]: ...


class InvitationStore(Protocol):
    """Invitation links: a use is taken, and a guest made a cadre, in one transaction."""

    async def create_invitation(
        self,
        code: str,
        district_id: int | None,
        created_by: int,
        now: float,
        expires_at: float,
        uses: int,
    ) -> Invitation: ...
    async def join(self, user_id: int, code: str, now: float) -> Joined: ...
    async def live_invitations(
        self, now: float, created_by: int | None = None
    ) -> list[Invitation]: ...
    async def end_invitation(
        self, code: str, now: float, created_by: int | None = None
    ) -> bool: ...
    async def revoke_role(self, user_id: int, now: float) -> tuple[User, int]: ...


class StreetStore(Protocol):
    async def import_streets(self, rows: Iterable[StreetRow]) -> ImportCounts: ...
    async def streets(self) -> list[Street]: ...
    async def street_lines(self) -> dict[int, Lines]: ...
    async def districts(self) -> list[District]: ...
    async def city_version(self) -> int: ...


class ShiftStore(Protocol):
    async def resize_shift(
        self,
        incident_id: int,
        user_id: int,
        count: int,
        now: float,
        max_unconfirmed: int | None,
        reopen: Reopen | None = None,
    ) -> Resized: ...
    async def check_in(
        self,
        incident_id: int,
        user_id: int,
        headcount: int,
        street: Street,
        lat: float,
        lon: float,
        now: float,
        rejoin_after: float,
        pending_since: float | None = None,
        max_unconfirmed: int | None = None,
        max_new_per_hour: int | None = None,
    ) -> CheckIn: ...
    async def team_request(self, request_id: int) -> TeamRequest | None: ...
    async def decide_team(
        self,
        request_id: int,
        incident_id: int,
        confirm: bool,
        by: int,
        now: float,
        notices: Sequence[Outgoing] = (),
        decided: Callable[[Sequence[SentCopy]], Sequence[Outgoing]] | None = None,
    ) -> TeamDecision: ...
    async def check_out(
        self,
        incident_id: int,
        user_id: int,
        now: float,
        forget_pending: bool = True,
        reopen: Reopen | None = None,
    ) -> Shift | None: ...
    async def move_shift(
        self, incident_id: int, user_id: int, street_id: int, lat: float, lon: float, now: float
    ) -> bool: ...
    async def set_pending_checkin(self, user_id: int, headcount: int, now: float) -> None: ...
    async def pending_checkin(self, user_id: int, since: float) -> bool: ...
    async def open_shift(self, incident_id: int, user_id: int) -> Shift | None: ...
    async def overdue_shifts(self, incident_id: int, since_before: float) -> list[Shift]: ...
    async def warn_shift(self, shift: Shift, messages: Sequence[Outgoing], now: float) -> int: ...
    async def close_shift_for_welfare(
        self, shift: Shift, messages: Sequence[Outgoing], now: float, reopen: Reopen | None = None
    ) -> Shift | None: ...


class TaskStore(Protocol):
    async def create_task(
        self,
        incident_id: int,
        street_id: int,
        needed: int,
        note: str,
        created_by: int,
        now: float,
        announce: Sequence[Outgoing] = (),
        origin: int | None = None,
        urgent: bool = False,
    ) -> Task: ...
    async def get_task(self, incident_id: int, task_id: int) -> Task | None: ...
    async def propose_task(
        self,
        dispatcher_id: int,
        street_id: int,
        needed: int,
        note: str,
        query: str,
        now: float,
        urgent: bool = False,
    ) -> int: ...
    async def proposal(self, proposal_id: int) -> Proposal | None: ...
    async def post_proposal(
        self, proposal_id: int, incident_id: int, now: float, announce: Sequence[Outgoing] = ()
    ) -> Task | None: ...
    async def live_tasks(self, incident_id: int) -> list[Task]: ...
    async def done_proofs(
        self, incident_id: int, district_id: int | None, limit: int
    ) -> list[tuple[Task, str]]: ...
    async def unaccepted_tasks(self, incident_id: int, created_before: float) -> list[Task]: ...
    async def escalate_task(
        self, task_id: int, messages: Sequence[Outgoing], now: float
    ) -> int: ...
    async def has_accepted(self, task_id: int, user_id: int) -> bool: ...
    async def complete_task(
        self,
        incident_id: int,
        task_id: int,
        user_id: int,
        now: float,
        note: str | None,
        proof_file_id: str | None,
        done_km: float | None = None,
        notices: Sequence[Outgoing] = (),
        told: Callable[[Sequence[Holder]], Sequence[Outgoing]] | None = None,
    ) -> TaskChange: ...
    async def cancel_task(
        self,
        incident_id: int,
        task_id: int,
        now: float,
        notices: Sequence[Outgoing] = (),
        by: int | None = None,
    ) -> TaskChange: ...
    async def reopen_task(
        self,
        incident_id: int,
        task_id: int,
        done_since: float,
        now: float,
        notices: Sequence[Outgoing] = (),
    ) -> tuple[str, Task | None, bool]: ...


class CountStore(Protocol):
    async def district_detail(self, incident_id: int, district_id: int) -> DistrictDetail: ...

    """The tally, the day's summary and the CSV export: reads of one moment."""

    async def tally_counts(self, incident: Incident) -> TallyCounts: ...
    async def recount(self, incident_id: int) -> tuple[int, int, int]: ...
    async def day_counts(self, incident_id: int, since: float, until: float) -> DayCounts: ...
    async def shift_rows(self, incident_id: int) -> list[ShiftExportRow]: ...
    async def task_rows(self, incident_id: int) -> list[TaskExportRow]: ...


class ReportStore(Protocol):
    """Residents' reports (群众求助): each decision in one transaction, with its messages."""

    async def get_report(self, incident_id: int, report_id: int) -> Report | None: ...
    async def wait_for_report(
        self, user_id: int, text: str, photo_file_id: str | None, now: float
    ) -> None: ...
    async def report_wait(self, user_id: int, since: float) -> ReportWait | None: ...
    async def add_to_wait(
        self, user_id: int, text: str, photo_file_id: str | None, since: float
    ) -> bool: ...
    async def made_by_update(self, incident_id: int, origin: int) -> Report | None: ...
    async def report_allowance(
        self, incident_id: int, user_id: int, now: float
    ) -> tuple[bool, int]: ...
    async def make_report(
        self,
        incident_id: int,
        user_id: int,
        street_id: int,
        lat: float,
        lon: float,
        now: float,
        wait_since: float,
        join_km: float,
        join_since: float,
        max_per_hour: int,
        notices: Callable[[int], Sequence[Outgoing]],
        origin: int | None = None,
    ) -> ReportMade | None: ...
    async def describable_report(self, user_id: int, since: float) -> Report | None: ...
    async def describe_report(
        self,
        report_id: int,
        user_id: int,
        text: str,
        photo_file_id: str | None,
        notices: Sequence[Outgoing],
        now: float,
    ) -> bool: ...
    async def task_for_report(
        self,
        incident_id: int,
        report_id: int,
        needed: int,
        note: str,
        created_by: int,
        now: float,
        announce: Sequence[Outgoing],
        notices: Callable[[Task, Sequence[Reporter]], Sequence[Outgoing]],
        origin: int | None = None,
        shown: Callable[[Task | None, Sequence[SentCopy]], Sequence[Outgoing]] | None = None,
    ) -> ReportDecision: ...
    async def dismiss_report(
        self,
        incident_id: int,
        report_id: int,
        by: int,
        now: float,
        block: bool,
        notices: Callable[[Report, Sequence[Reporter]], Sequence[Outgoing]],
        shown: Callable[[Task | None, Sequence[SentCopy]], Sequence[Outgoing]] | None = None,
    ) -> ReportDecision: ...
    async def open_reports(
        self, incident_id: int, district_id: int | None = None
    ) -> list[Report]: ...
    async def reports_of_task(self, task_id: int) -> list[tuple[Report, list[Reporter]]]: ...
    async def report_counts(self, incident_id: int) -> ReportCounts: ...
    async def report_rows(self, incident_id: int) -> list[ReportExportRow]: ...


class ClosingStore(Protocol):
    """A six-day storm: ended incidents, the closing reports they owe, their busiest day."""

    async def incident_by_id(self, incident_id: int) -> Incident | None: ...
    async def incident_ids(self) -> list[int]: ...
    async def owed_closing_reports(self) -> list[tuple[int, int]]: ...
    async def queue_closing_report(
        self, incident_id: int, messages: Sequence[Outgoing], now: float
    ) -> int: ...
    async def turnout_by_quarter_hour(self, incident_id: int) -> list[tuple[float, int]]: ...
    async def enqueue_reports(
        self, messages: Sequence[Outgoing], now: float
    ) -> tuple[int, int]: ...
    async def outbox_superseded(self) -> int: ...


class UnitStore(Protocol):
    """Units (单位包保): the units, and which one each cadre belongs to now."""

    async def units(self) -> list[Unit]: ...
    async def add_unit(self, name: str) -> tuple[Unit, bool]: ...
    async def join_unit(self, user_id: int, unit_id: int) -> Unit | None: ...
    async def unit_of(self, user_id: int) -> Unit | None: ...


class OverviewStore(Protocol):
    """The one-screen overview's reads: no person's name or id in any of them."""

    async def street_states(self, incident_id: int) -> StreetStates: ...
    async def positions(self, incident_id: int) -> list[tuple[float, float, int]]: ...
    async def turnout_by_hour(self, incident_id: int) -> list[HourTurnout]: ...
    async def data_version(self) -> int: ...


class Store(
    IncidentStore,
    ClosingStore,
    PeopleStore,
    InvitationStore,
    StreetStore,
    ShiftStore,
    TaskStore,
    PlaceStore,
    CountStore,
    ChatStore,
    InboxStore,
    TurnStore,
    OutboxStore,
    ReportStore,
    UnitStore,
    OverviewStore,
    Protocol,
):
    """One deployment's whole state: every aggregate's store, on one engine."""

    async def close(self) -> None: ...
    async def schema_version(self) -> int: ...
