"""What every figure shares: the sizes, the figure itself, the kit the CLI hands in,
the sample city and the bench's config."""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from snowbot.domain.gazetteer import SAMPLE_GAZETTEER, read_gazetteer
from snowbot.domain.model import StreetRow
from snowbot.service import Snowbot
from snowbot.settings.config import Config, ScheduleConfig, TelegramConfig
from snowbot.settings.webhook import Webhook
from snowbot.tools.demo import Storm

TOKEN = "123456:BENCH"


@dataclass(frozen=True)
class Sizes:
    checkins: int  # figure 1: location updates on each side
    writers: int  # figure 2: concurrent cadres
    writes: int  # figure 2: check-ins in all
    shifts: int  # figure 3
    users: int
    tasks: int
    streets: int
    tally_runs: int
    lookup_streets: int  # figure 4
    lookups: int
    scans: int
    memory_streets: int  # figure 5
    memory_checkins: int
    groups: int  # figure 6
    storm: str  # figure 7: the demo's storm, "seed" (~56,000 person-times) or "small"
    notices: int = 5000  # replies first: bulk notices waiting while people check in
    timed_checkins: int = 40  # replies first: check-ins timed, quiet and busy alike


FULL = Sizes(
    checkins=3000,
    writers=100,
    writes=10_000,
    shifts=1_000_000,
    users=100_000,
    tasks=10_000,
    streets=10_000,
    tally_runs=20,
    lookup_streets=100_000,
    lookups=2000,
    scans=3,
    memory_streets=100_000,
    memory_checkins=10_000,
    groups=200,
    storm="seed",
)
QUICK = Sizes(
    checkins=150,
    writers=20,
    writes=400,
    shifts=20_000,
    users=2000,
    tasks=500,
    streets=500,
    tally_runs=5,
    lookup_streets=5000,
    lookups=200,
    scans=2,
    memory_streets=5000,
    memory_checkins=300,
    groups=20,
    storm="small",
    notices=300,
    timed_checkins=15,
)


@dataclass(frozen=True)
class Figure:
    key: str
    name: str
    value: float
    unit: str
    baseline: float | None
    baseline_name: str
    ratio: float | None
    target: str
    met: bool
    note: str = ""


class StoppableBot(Protocol):
    async def stop(self) -> None: ...


# the benchmark's overview asks with this token (the overview always wants one)
OVERVIEW_TOKEN = "bench-overview-token-0123456789"
OVERVIEW_ASKS = {"Authorization": f"Bearer {OVERVIEW_TOKEN}"}


# one of several webhook processes, started in a child process (snowbot.tools.bench.webhooks)
StartShared = Callable[[Config, Webhook], Awaitable["StoppableBot"]]


@dataclass(frozen=True)
class Kit:
    """The Telegram side, handed in by the CLI."""

    start_bot: Callable[[Config, bool], Awaitable[StoppableBot]]  # (config, Telegram's limits?)
    start_bare_bot: Callable[[str, str], Awaitable[StoppableBot]]
    play_storm: Callable[[Config, str], Awaitable[Storm]]  # (config, "seed" or "small")
    # the service on the database a config names, as the bot opens it (no Telegram)
    open_service: Callable[[Config], Awaitable[Snowbot]]
    # one of several webhook processes: a module-level function, handed to a child process
    start_shared_webhook: StartShared
    # the overview on a free port of 127.0.0.1, token OVERVIEW_TOKEN: (address, what stops it)
    serve_overview: Callable[[Snowbot], Awaitable[tuple[str, StoppableBot]]] | None = None
    # the overview with the Mini App, beside a bot `start_bot` started: (address, stopper)
    serve_app: Callable[[StoppableBot], Awaitable[tuple[str, StoppableBot]]] | None = None


# -- helpers ------------------------------------------------------------------------------


def sample_city() -> list[StreetRow]:
    return read_gazetteer(SAMPLE_GAZETTEER)


def random_places(rows: Sequence[StreetRow], n: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        row = rng.choice(rows)
        out.append((row.lat + rng.uniform(-0.001, 0.001), row.lon + rng.uniform(-0.0015, 0.0015)))
    return out


def bench_config(base: Config, folder: Path, base_url: str, gazetteer: Path | None) -> Config:
    """The bot of the figures: open enrolment, so that a new person's location is a
    check-in committed (by invitation, the default, it would only be a guest's answer)."""
    return replace(
        base,
        telegram=TelegramConfig(token=TOKEN, base_url=base_url),
        access=replace(base.access, enrolment="open"),
        database=folder / "bench.db",
        city=replace(base.city, gazetteer=gazetteer),
        coordinators=frozenset({1}),
        schedule=ScheduleConfig(),
        source=None,
    )


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]
