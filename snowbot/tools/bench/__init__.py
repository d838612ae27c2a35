"""`snowbot bench`: every figure beside its baseline, measured in the same run.

These machines are shared and noisy, so what counts is each ratio; absolute
numbers are printed for context. Nothing here imports telegram: the CLI hands
in the two ways to start a bot (snowbot's, and the bare baseline).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from snowbot.settings.config import Config
from snowbot.tools.bench.app import figure_app_tasks
from snowbot.tools.bench.common import FULL, QUICK, Figure, Kit, Sizes
from snowbot.tools.bench.database import (
    figure_tally,
    figure_writes,
    full_recount,
    seed_tally_database,
    tally_summary,
)
from snowbot.tools.bench.lanes import figure_replies_first
from snowbot.tools.bench.names import figure_names
from snowbot.tools.bench.nearest import figure_nearest, random_city
from snowbot.tools.bench.overview import figure_api_streets, figure_api_tally, figure_screens
from snowbot.tools.bench.pipeline import (
    figure_checkins,
    figure_fanout,
    figure_memory,
    figure_storm,
    memory_probe,
)

__all__ = [
    "FULL",
    "QUICK",
    "Figure",
    "Kit",
    "Sizes",
    "as_json",
    "as_table",
    "full_recount",
    "memory_probe",
    "random_city",
    "run_bench",
    "seed_tally_database",
    "tally_summary",
]


# -- running it all ---------------------------------------------------------------------------


async def run_bench(
    kit: Kit,
    base: Config,
    quick: bool,
    progress: bool = True,
    config_file: str | None = None,
    postgres: str | None = None,
    only: str | None = None,
) -> list[Figure]:
    """Every figure; with `postgres` (an empty scratch database's URL) figures 1–3 on it
    too, after SQLite's (it is emptied before each, and left holding figure 3's storm);
    with `only` ("replies_first"; "webhooks" or "flood" with `postgres`), that figure alone."""
    sizes = QUICK if quick else FULL
    figures: list[Figure] = []

    def done(figure: Figure) -> None:
        figures.append(figure)
        if progress:
            ratio = "" if figure.ratio is None else f", ratio {figure.ratio:.2f}"
            print(
                f"[{len(figures)}] {figure.name}: {_num(figure.value)} {figure.unit}{ratio}"
                f" — {'met' if figure.met else 'NOT met'}",
                file=sys.stderr,
                flush=True,
            )

    if postgres:
        from snowbot.tools.bench import postgres as pg
        from snowbot.tools.bench.flood import OTHERS, QUICK_OTHERS, figures_flood
        from snowbot.tools.bench.webhooks import figure_webhooks

        await pg.refuse_unless_scratch(postgres)  # in seconds, before minutes of SQLite
    with tempfile.TemporaryDirectory(prefix="snowbot-bench-") as tmp:
        folder = Path(tmp)
        if only == "replies_first":
            done(await figure_replies_first(kit, base, sizes, folder))
            return figures
        if postgres and only == "webhooks":
            done(await figure_webhooks(kit, postgres, base, sizes))
            return figures
        if postgres and only == "flood":
            for figure in await figures_flood(
                kit, postgres, base, QUICK_OTHERS if quick else OTHERS
            ):
                done(figure)
            return figures
        done(await figure_checkins(kit, base, sizes, folder))
        done(await figure_writes(base, sizes, folder))
        done(await figure_tally(kit, base, sizes, folder))
        if postgres:
            done(await pg.figure_checkins_postgres(kit, base, sizes, folder, postgres))
            for figure in await pg.figure_writes_postgres(postgres, sizes):
                done(figure)
            done(await pg.figure_tally_postgres(kit, base, sizes, postgres))
            await pg.fresh(postgres)
            done(await figure_webhooks(kit, postgres, base, sizes))
            await pg.fresh(postgres)
            for figure in await figures_flood(
                kit, postgres, base, QUICK_OTHERS if quick else OTHERS
            ):
                done(figure)
        if kit.serve_overview is not None:
            done(await figure_api_tally(kit, base, sizes, folder))
        done(figure_nearest(sizes))
        done(figure_names(sizes))
        done(await figure_memory(sizes, quick, config_file))
        done(await figure_fanout(kit, base, sizes, folder))
        done(await figure_replies_first(kit, base, sizes, folder))
        assert figures[0].baseline is not None
        if kit.serve_overview is not None:
            done(await figure_api_streets(kit, base, sizes, folder))
            done(await figure_screens(kit, base, sizes, folder))
        if kit.serve_app is not None and kit.serve_overview is not None:  # figure 9's city
            done(await figure_app_tasks(kit, base, sizes, folder))
        done(await figure_storm(kit, base, sizes.storm, figures[0].baseline))
    return figures


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def as_json(figures: list[Figure]) -> str:
    return json.dumps(
        {"machine": machine(), "figures": [asdict(f) for f in figures]}, ensure_ascii=False
    )


def as_table(figures: list[Figure]) -> str:
    lines = [
        "| figure | snowbot | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        base = "—" if f.baseline is None else f"{_num(f.baseline)} ({f.baseline_name})"
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f}"
        lines.append(
            f"| {f.name} | {_num(f.value)} {f.unit} | {base} | {ratio} | {f.target} | "
            f"{'yes' if f.met else 'NO'} |"
        )
    return "\n".join(lines)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"
