"""The change signal: raised by the service after every committed change, awaited by
whoever shows the storm live (the overview's Server-Sent Events).

The service's store is wrapped (`watched`) so that every operation that may change what
the overview shows raises the signal after it returns, that is after its transaction
committed. Reads and the bot's own bookkeeping (updates seen, the outbox) are quiet; any
other operation counts as a change, so one added later is never missed: a change too
many costs the overview one recount, a change missed would leave the screen stale.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, cast

from snowbot.domain.handling import current_update
from snowbot.domain.stores import Store

# Store operations that change nothing the overview shows.
QUIET = frozenset(
    {
        # reads
        "current_incident",
        "get_user",
        "users_with_role",
        "live_invitations",
        "streets",
        "street_lines",
        "districts",
        "city_version",
        "data_version",
        "team_request",
        "open_shift",
        "pending_checkin",
        "overdue_shifts",
        "get_task",
        "proposal",
        "live_tasks",
        "unaccepted_tasks",
        "has_accepted",
        "tally_counts",
        "recount",
        "day_counts",
        "shift_rows",
        "task_rows",
        "bound_by",
        "bindings",
        "moved_chats",
        "announcements",
        "update_seen",
        "turn_may_be_free",
        "unhandled_updates",
        "queued",
        "due_outbox",
        "outbox_counts",
        "schema_version",
        "positions",
        "turnout_by_hour",
        "street_states",
        "placement",
        "held_tasks",
        "get_report",
        "report_wait",
        "made_by_update",
        "report_allowance",
        "describable_report",
        "open_reports",
        "reports_of_task",
        "report_counts",
        "report_rows",
        "units",
        "unit_of",
        "incident_by_id",
        "incident_ids",
        "owed_closing_reports",
        "turnout_by_quarter_hour",
        "outbox_superseded",
        # the bot's bookkeeping
        "close",
        "migrate",
        "register_user",
        "set_language",
        "set_pending_checkin",
        "mark_update",
        "keep_updates",
        "take_turn",
        "give_back_turn",
        "beat",
        "leave",
        "claim_orphans",
        "drop_updates",
        "forget_updates",
        "enqueue",
        "outbox_sent",
        "outbox_retry",
        "outbox_failed",
        "add_announcement",
        "mark_stale",
        "take_stale",
        "warn_shift",
        "escalate_task",
        "create_invitation",
        "end_invitation",
        "propose_task",
        "wait_for_report",
        "add_to_wait",
        "enqueue_reports",
        "queue_closing_report",
    }
)


class Changes:
    """A version number that goes up with every change, and a way to wait for the next."""

    def __init__(self) -> None:
        self.version = 0
        self._next = asyncio.Event()

    def changed(self) -> None:
        self.version += 1
        event, self._next = self._next, asyncio.Event()
        event.set()

    async def wait(self, seen: int) -> int:
        """Return the version once it is past `seen` (at once if it already is)."""
        while self.version == seen:
            await self._next.wait()
        return self.version


class _Watched:
    def __init__(self, store: Store, changes: Changes) -> None:
        self._store = store
        self._changes = changes

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if name in QUIET or name.startswith("_") or not inspect.iscoroutinefunction(found):
            return found
        operation = cast(Callable[..., Coroutine[Any, Any, Any]], found)
        changes = self._changes

        @functools.wraps(operation)
        async def changing(*args: Any, **kwargs: Any) -> Any:
            result = await operation(*args, **kwargs)
            # only once committed: a failed change raised above, and an update's change
            # commits with its mark (snowbot.domain.handling)
            scope = current_update()
            if scope is None:
                changes.changed()
            else:
                scope.on_end(changes.changed)
            return result

        return changing


def watched(store: Store, changes: Changes) -> Store:
    """`store`, raising `changes` after each operation that may change the overview."""
    return cast(Store, _Watched(store, changes))
