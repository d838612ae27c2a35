"""Large teams (docs/security.md, `max_team_unconfirmed`): when a team waits for a dispatcher.

A check-in or a headcount above the config's bound is not counted until a dispatcher
confirms it; storage asks this inside the check-in's (or the resize's) transaction.
"""

from __future__ import annotations


def waits_for_confirmation(count: int, max_unconfirmed: int | None) -> bool:
    """A team of `count` people waits for a dispatcher when it is larger than the bound;
    with no bound (None) no team waits."""
    return max_unconfirmed is not None and count > max_unconfirmed
