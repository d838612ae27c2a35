"""Roles and what each may do: coordinator > dispatcher > cadre > guest
(docs/commands.md "What it does, by role"; guests: docs/security.md)."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    GUEST = 0  # wrote to the bot but was never invited: help, language, no counting
    CADRE = 1
    DISPATCHER = 2
    COORDINATOR = 3

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role | None:
        """A role from its name as typed in /grant (English or Chinese)."""
        return _NAMES.get(text.strip().lower())


_NAMES = {
    "guest": Role.GUEST,
    "访客": Role.GUEST,
    "cadre": Role.CADRE,
    "volunteer": Role.CADRE,
    "队员": Role.CADRE,
    "干部": Role.CADRE,
    "志愿者": Role.CADRE,
    "dispatcher": Role.DISPATCHER,
    "调度": Role.DISPATCHER,
    "调度员": Role.DISPATCHER,
    "coordinator": Role.COORDINATOR,
    "协调": Role.COORDINATOR,
    "协调员": Role.COORDINATOR,
}


def effective_role(stored: Role, user_id: int, coordinators: frozenset[int]) -> Role:
    """Coordinators are the config's `[access] coordinators`, whatever the database says,
    and nobody else: a database (restored, copied or from an old version that let /grant
    make coordinators) gives at most a dispatcher (docs/security.md)."""
    return Role.COORDINATOR if user_id in coordinators else min(stored, Role.DISPATCHER)
