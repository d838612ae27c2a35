"""The figures that run the real bot: check-ins against bare python-telegram-bot (1),
memory (5), fan-out under Telegram's limit (6) and the demo's storm (7)."""

from __future__ import annotations

import asyncio
import random
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from snowbot.settings.config import Config
from snowbot.tools.bench.common import (
    TOKEN,
    Figure,
    Kit,
    Sizes,
    StoppableBot,
    bench_config,
    random_places,
    sample_city,
)
from snowbot.tools.bench.database import (
    import_random_city,
    seed_fanout_groups,
    seed_streets,
    turnout,
)
from snowbot.tools.bench.standin_process import StandIn

# -- 1. the check-in pipeline against bare python-telegram-bot --------------------------


async def figure_checkins(
    kit: Kit, base: Config, sizes: Sizes, folder: Path, postgres: str = ""
) -> Figure:
    """On the SQLite file in `folder`, or on the (empty) PostgreSQL database `postgres`."""
    rows = sample_city()
    standin = StandIn()
    try:
        config = replace(
            bench_config(base, folder / "f1", standin.base_url, None), database_url=postgres
        )
        config.database.parent.mkdir(parents=True, exist_ok=True)
        await seed_streets(config.address, rows)
        warm = max(10, sizes.checkins // 20)
        bot = await kit.start_bot(config, False)
        try:
            await standin.call("locations", (500_000, random_places(rows, warm, 1)))
            ours = await standin.call(
                "locations", (1_000_000, random_places(rows, sizes.checkins, 2))
            )
        finally:
            await bot.stop()
        committed = await turnout(config.address)
        bare = await kit.start_bare_bot(TOKEN, standin.base_url)
        try:
            await standin.call("locations", (2_500_000, random_places(rows, warm, 3)))
            plain = await standin.call(
                "locations", (3_000_000, random_places(rows, sizes.checkins, 4))
            )
        finally:
            await bare.stop()
    finally:
        await standin.stop()
    ours_rate, bare_rate = sizes.checkins / ours, sizes.checkins / plain
    ratio = ours_rate / bare_rate
    # every answered location is a check-in committed (the warm-up's too)
    all_in = committed == warm + sizes.checkins
    return Figure(
        "checkin_pipeline_postgres" if postgres else "checkin_pipeline",
        f"Check-ins through snowbot{' on PostgreSQL' if postgres else ''} (updates/s)",
        ours_rate,
        "updates/s",
        bare_rate,
        "bare python-telegram-bot answering each location",
        ratio,
        ">= 0.5 of the bare rate",
        ratio >= 0.5 and all_in,
        f"{sizes.checkins} new people, one location each; check-ins committed: "
        f"{committed} of {warm + sizes.checkins}",
    )


# -- 6. fan-out under Telegram's limit -----------------------------------------------------


async def figure_fanout(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    rate = 30.0
    groups = [-5_000_000 - g for g in range(sizes.groups)]
    standin = StandIn()
    try:
        await standin.call("groups", groups)
        config = bench_config(base, folder / "f6", standin.base_url, None)
        config.database.parent.mkdir(parents=True, exist_ok=True)
        await seed_fanout_groups(config.database, groups)
        bot = await kit.start_bot(config, True)
        try:
            await standin.call("rate", rate)
            await standin.call("say", (1, "/start", None))
            await standin.call("say", (1, "/newtask Fan Street 2", None))
            elapsed, total, most = await standin.call("delivered", (groups, 1, 120.0))
        finally:
            await bot.stop()
            await standin.call("rate", None)
    finally:
        await standin.stop()
    ideal = len(groups) / rate
    ratio = elapsed / ideal
    return Figure(
        "fan_out",
        f"One announcement to {len(groups)} bound groups",
        elapsed,
        "s",
        ideal,
        f"the ideal at {rate:.0f} messages/s",
        ratio,
        "all delivered once, within 15% of the ideal",
        total == len(groups) and most == 1 and ratio <= 1.15,
        f"{total} delivered of {len(groups)}; most in one group: {most}; "
        "the stand-in answers 429 beyond 30 messages/s",
    )


# -- 7. the seed's storm ---------------------------------------------------------------------


async def figure_storm(kit: Kit, base: Config, scale: str, bare_rate: float) -> Figure:
    cpu = time.process_time()
    storm = await kit.play_storm(base, scale)
    # the CPU seconds the storm took in this process (the bot and the stand-in): on a shared
    # machine the wall time is mostly the neighbours' load, this is not
    cpu = time.process_time() - cpu
    rate = storm.updates / storm.seconds
    turnout = storm.tally.person_times
    agrees = f"{turnout} 人次" in storm.chat_tally
    # the seed: what the city reported, 5.6万余 (56,000 to 56,999) person-times
    expected = 56_000 <= turnout <= 56_999 if scale == "seed" else turnout > 0
    return Figure(
        "storm",
        f"The demo's {scale} storm (snowbot demo --scale {scale}), updates/s",
        rate,
        "updates/s",
        bare_rate,
        "bare python-telegram-bot's rate from figure 1",
        rate / bare_rate,
        "completes (seed: 56,000-56,999 person-times, in 3 min on 2 idle cores), chat and "
        "tally agreeing",
        expected and agrees,
        f"{storm.seconds:.0f} s wall time, {cpu:.0f} s CPU, {storm.updates:,} updates, "
        f"{turnout:,} person-times",
    )


# -- 5. memory -----------------------------------------------------------------------------


async def memory_probe(kit: Kit, base: Config, sizes: Sizes, kind: str) -> float:
    """In a process of its own: peak RSS (MB) after `memory_checkins` check-ins.

    kind "snowbot": the real bot holding a `memory_streets` city; "bare": the baseline.
    """
    standin = StandIn()
    try:
        with tempfile.TemporaryDirectory(prefix="snowbot-memory-") as tmp:
            places = _memory_places()
            if kind == "snowbot":
                config = bench_config(base, Path(tmp), standin.base_url, None)
                await import_random_city(config.database, sizes.memory_streets)
                bot: StoppableBot = await kit.start_bot(config, False)
            else:
                bot = await kit.start_bare_bot(TOKEN, standin.base_url)
            try:
                done = 0
                while done < sizes.memory_checkins:
                    batch = min(1000, sizes.memory_checkins - done)
                    chosen = [places[(done + k) % len(places)] for k in range(batch)]
                    await standin.call("locations", (7_000_000 + done, chosen))
                    done += batch
            finally:
                await bot.stop()
    finally:
        await standin.stop()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _memory_places() -> list[tuple[float, float]]:
    """Check-in spots spread over the random city (the same for both probes)."""
    rng = random.Random(9)
    side = 1.0
    return [(49.8 + rng.random() * side, 126.8 + rng.random() * side * 1.5) for _ in range(500)]


async def figure_memory(sizes: Sizes, quick: bool, config_file: str | None) -> Figure:
    async def probe(kind: str) -> float:
        command = [sys.executable, "-m", "snowbot", "bench", "--memory-probe", kind]
        if quick:
            command.append("--quick")
        if config_file:
            command += ["--config", config_file]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"memory probe {kind} failed: {err.decode()[-500:]}")
        return float(out.decode().strip().splitlines()[-1])

    ours = await probe("snowbot")
    bare = await probe("bare")
    return Figure(
        "memory",
        "Peak RSS of the bot",
        ours,
        "MB",
        bare,
        "bare python-telegram-bot after the same updates",
        ours / bare,
        "<= 300 MB",
        ours <= 300,
        f"a {sizes.memory_streets:,}-street city after {sizes.memory_checkins:,} check-ins",
    )
