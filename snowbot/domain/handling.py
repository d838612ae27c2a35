"""One update, one transaction: what an update changes, its handled mark and its replies
commit together, so `kill -9` at any moment leaves the update either wholly done and
answered, or not done at all and handled afresh at the next start.

The Telegram adapter handles each update inside `handling(update_id)`. The storage
engine runs the update's writes at once, in a transaction it keeps open and shares
with the other updates in hand (group commit), hands each write's result back at once
so the handler can go on, and commits only when every update in the transaction has
been marked handled (its `finish` write) or has ended. An update that waits on the
network mid-way for longer than the engine's hold lets the others commit without it.

On PostgreSQL another process's transaction may make ours impossible to commit
(a serialization failure): nothing of it is kept, and every update in it is handled
again from the start (`RedoUpdate`); none has answered anyone yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

MAX_TRIES = 5  # an update whose transaction keeps being lost gives up after this many


class RedoUpdate(Exception):
    """The transaction holding this update's changes was lost before it committed:
    nothing of it is kept, and the update is to be handled again."""


@dataclass(eq=False)
class UpdateScope:
    """The update being handled in this task, as the storage engine sees it."""

    update_id: int
    tries: int = 1
    # marked handled, or its handling ended: its transaction need not wait for it
    ended: bool = False
    # its transaction was lost: every further write fails with RedoUpdate
    lost: bool = False
    # the engine's open transaction it has written in, if any (the engine's own object)
    transaction: object | None = None
    # what the adapter does once the update is committed: calls to Telegram that are not
    # messages (a button's answer, an edit), which must not hold the shared transaction
    # for their round trip
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _wakers: list[Callable[[], None]] = field(default_factory=list)

    def on_end(self, waker: Callable[[], None]) -> None:
        """Call `waker` when this update ends (at once if it has)."""
        if self.ended:
            waker()
        else:
            self._wakers.append(waker)

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            for waker in self._wakers:
                waker()
            self._wakers.clear()


_current: ContextVar[UpdateScope | None] = ContextVar("snowbot_update", default=None)


def current_update() -> UpdateScope | None:
    """The update this task is handling and has not yet marked handled, if any (or whose
    transaction was lost: it is to be handled again)."""
    scope = _current.get()
    return scope if scope is not None and (scope.lost or not scope.ended) else None


@contextmanager
def handling(update_id: int, tries: int = 1) -> Iterator[UpdateScope]:
    """Handle one update: the writes made inside belong to it until it is marked handled."""
    scope = UpdateScope(update_id, tries)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        scope.end()
        _current.reset(token)
