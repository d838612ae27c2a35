"""The Mini App's figure (11): a cadre's task list, `/app/api/view`, in figure 9's
100,000-street city with 1,000 open tasks, p50, beside the same listing made in the
process (`tasks_for`, the work the chat's /tasks does too). Asked as the app polls; the
note gives the p50 of asks each just after a change too.

The app is served by the kit (`Kit.serve_app`, from snowbot.app.wiring) beside the real bot
against the stand-in; this module speaks to it over HTTP only, signed as Telegram signs.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from pathlib import Path

import aiohttp

from snowbot.service import Snowbot
from snowbot.service.init_data import sign
from snowbot.settings.config import Config
from snowbot.tools.bench.common import TOKEN, Figure, Kit, Sizes, bench_config, percentile
from snowbot.tools.bench.standin_process import StandIn

ASKS = 40
OPEN_TASKS = 1000
CADRE_ID, COORDINATOR_ID = 2, 1  # the bench's config makes user 1 a coordinator


async def figure_app_tasks(kit: Kit, base: Config, sizes: Sizes, folder: Path) -> Figure:
    """/app/api/view for a cadre on duty: the nearest open tasks, over HTTP, p50."""
    assert kit.serve_app is not None
    path = folder / "f9" / "streets.db"  # figure 9's random city
    tasks = min(OPEN_TASKS, sizes.tasks)
    standin = StandIn()
    try:
        config = replace(bench_config(base, folder / "f11", standin.base_url, None), database=path)
        bot = await kit.start_bot(config, False)
        try:
            service: Snowbot = bot.service  # type: ignore[attr-defined]
            cadre = await _storm(service, tasks)
            address, app = await kit.serve_app(bot)
            try:
                served, direct, listed = await _ask(service, cadre, address, False)
                changed, _, _ = await _ask(service, cadre, address, True)
            finally:
                await app.stop()
        finally:
            await bot.stop()
    finally:
        await standin.stop()
    p50, baseline = percentile(served, 50), percentile(direct, 50)
    streets = len(service.directory.streets)
    return Figure(
        "app_tasks",
        f"the Mini App's task list, {streets:,} streets, {tasks:,} open tasks, p50",
        p50,
        "ms",
        baseline,
        "the same listing in the process (tasks_for, as /tasks)",
        p50 / baseline,
        "p50 < 50 ms",
        p50 < 50 and listed > 0,
        f"{ASKS} asks as the app polls, initData checked each time; just after a change "
        f"(the live tasks read again, once for every phone) p50 {percentile(changed, 50):.1f}"
        f" ms; {listed} tasks listed, nearest first",
    )


async def _storm(service: Snowbot, tasks: int) -> object:
    """`tasks` open tasks on random streets, and a cadre on duty among them."""
    rng = random.Random(33)
    coordinator = await service.meet(COORDINATOR_ID, "bench coordinator", None, None)
    streets = service.directory.streets
    for street in rng.sample(streets, tasks):
        await service.post_task(coordinator, [str(street.id), "2"])
    cadre = await service.meet(CADRE_ID, "bench cadre", None, "zh")
    here = rng.choice(streets)
    await service.check_in(cadre, here.lat, here.lon)
    return cadre


async def _ask(
    service: Snowbot, cadre: object, address: str, after_change: bool
) -> tuple[list[float], list[float], int]:
    """Asks as the app polls; `after_change`: each just after a change (nothing kept)."""
    user = json.dumps({"id": CADRE_ID, "first_name": "bench cadre"})
    served: list[float] = []
    direct: list[float] = []
    listed = 0
    async with aiohttp.ClientSession() as client:
        for _ in range(ASKS):
            if after_change:
                service.changes.changed()
            data = sign({"auth_date": str(int(service.clock())), "user": user}, TOKEN)
            headers = {"Authorization": f"tma {data}"}
            started = time.perf_counter()
            async with client.get(f"{address}/app/api/view", headers=headers) as r:
                body = await r.json()
            served.append((time.perf_counter() - started) * 1000)
            listed = len(body["cadre"]["tasks"])
            started = time.perf_counter()
            await service.tasks_for(cadre)  # type: ignore[arg-type]
            direct.append((time.perf_counter() - started) * 1000)
    return served, direct, listed
