"""`snowbot bench --postgres`: the flood figure (issue 27) runs on two real webhook processes,
says what it measured, and measured what it says: every one of the flood's updates was
either handled or dropped (marked handled), each of the others' check-ins answered. (Speed
itself is for the bench: no figure is asserted met.)"""

from __future__ import annotations

from pathlib import Path

from snowbot.app.tool_starters import bench_kit
from snowbot.settings.config_file import parse_config
from snowbot.tools.bench.flood import FLOOD, FLOODER, figures_flood
from snowbot.tools.bench.postgres import fresh
from tests.engines import raw


async def test_the_flood_figure_handles_or_drops_every_update(scratch: str, tmp_path: Path) -> None:
    await fresh(scratch)
    base = parse_config({}, base_dir=tmp_path)
    others, cleared = await figures_flood(bench_kit(), scratch, base, others=10)
    assert others.key == "flood_others_p50" and others.baseline and others.value > 0
    assert cleared.key == "flood_backlog_cleared" and cleared.value > 0
    with raw(scratch) as db:
        (kept,) = db.execute("SELECT COUNT(*) FROM inbox WHERE person = ?", (FLOODER,)).fetchone()
        (seen,) = db.execute(
            "SELECT COUNT(*) FROM seen_updates WHERE update_id >= ? AND update_id < ?",
            (FLOODER * 10, FLOODER * 10 + FLOOD),
        ).fetchone()
        (shifts,) = db.execute("SELECT COUNT(*) FROM shifts").fetchone()
    assert f"{kept} kept and handled, {FLOOD - kept} dropped" in cleared.note
    assert 50 <= kept < FLOOD and seen == FLOOD  # handled, or dropped and marked so
    assert shifts == 10 + 10 + 10  # the warm-up's, the baseline's and the flood's check-ins
