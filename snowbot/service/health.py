"""How the bot itself is doing, counted as it runs: read by the overview's /metrics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Health:
    """Counters since this process started (Prometheus counters: they only go up)."""

    updates_handled: int = 0
    handler_errors: int = 0
    telegram_errors: int = 0  # a message Telegram refused, or could not be reached for
    telegram_retries: int = 0  # a message put back to be sent again later
