"""Figure 8, replies first: while thousands of bulk notices wait for Telegram's rate
limit, a check-in's reply comes as fast as on a quiet bot, and the notices still go out
at the rate limit."""

from __future__ import annotations

from pathlib import Path

from snowbot.domain.messages import LANE_NOTICE
from snowbot.settings.config import Config
from snowbot.tools.bench.common import (
    Figure,
    Kit,
    Sizes,
    bench_config,
    percentile,
    random_places,
    sample_city,
)
from snowbot.tools.bench.database import queue_notices, seed_streets
from snowbot.tools.bench.standin_process import StandIn

RATE = 30.0  # Telegram's messages a second, as the stand-in enforces it
FIRST_NOTICE_CHAT = 8_000_000
WITHIN_MS = 50.0  # the busy p50 beside the quiet one
RATE_WITHIN = 0.9  # the notices' rate, of RATE


async def figure_replies_first(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    rows = sample_city()
    n = sizes.timed_checkins
    standin = StandIn()
    try:
        config = bench_config(base, folder / "f8", standin.base_url, None)
        config.database.parent.mkdir(parents=True, exist_ok=True)
        await seed_streets(config.address, rows)
        bot = await kit.start_bot(config, True)  # Telegram's limits on: the lanes at work
        try:
            await standin.call("rate", RATE)
            await standin.call("checkins", (9_000_000, random_places(rows, 5, 80)))  # warm-up
            quiet = await standin.call("checkins", (9_100_000, random_places(rows, n, 81), 0.2))
            await queue_notices(config.address, FIRST_NOTICE_CHAT, sizes.notices, LANE_NOTICE)
            timeout = sizes.notices / RATE * 2 + 60
            busy, delivered, spread = await standin.call(
                "busy",
                (FIRST_NOTICE_CHAT, sizes.notices, 9_200_000, random_places(rows, n, 82), timeout),
            )
        finally:
            await bot.stop()
            await standin.call("rate", None)
    finally:
        await standin.stop()
    quiet_ms, busy_ms = percentile(quiet, 50) * 1000, percentile(busy, 50) * 1000
    rate = (delivered - 1) / spread if spread > 0 else 0.0
    all_out = delivered == sizes.notices
    return Figure(
        "replies_first",
        f"A check-in's reply p50 while {sizes.notices:,} notices wait (ms)",
        busy_ms,
        "ms",
        quiet_ms,
        "the same bot's check-in reply p50 with nothing waiting, same run",
        busy_ms / quiet_ms if quiet_ms else None,
        f"within {WITHIN_MS:.0f} ms of the quiet p50; the notices all out at "
        f">= {RATE_WITHIN:.0%} of {RATE:.0f}/s",
        busy_ms - quiet_ms <= WITHIN_MS and all_out and rate >= RATE * RATE_WITHIN,
        f"{n} check-ins each; notices delivered {delivered:,} of {sizes.notices:,} at "
        f"{rate:.1f}/s (the stand-in answers 429 beyond {RATE:.0f}/s); busy p90 "
        f"{percentile(busy, 90) * 1000:.0f} ms, quiet p90 {percentile(quiet, 90) * 1000:.0f} ms",
    )
