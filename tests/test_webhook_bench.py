"""The webhook processes' figure (`snowbot bench --postgres URL`) cannot rot: its quick run
on a fresh PostgreSQL database measures both sides."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.app.tool_starters import bench_kit
from snowbot.settings.config import Config
from snowbot.tools.bench.common import QUICK
from snowbot.tools.bench.webhooks import figure_webhooks
from tests.engines import NewDatabase

pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)


@pytest.mark.timeout(300)
async def test_the_quick_webhook_figure_measures_two_processes_against_one(
    tmp_path: Path, new_database: NewDatabase
) -> None:
    url = str(new_database())
    figure = await figure_webhooks(bench_kit(), url, Config(database=tmp_path / "bench.db"), QUICK)
    assert figure.key == "webhook_processes" and figure.unit == "check-ins/s"
    assert figure.value > 0 and figure.baseline is not None and figure.baseline > 0
    assert figure.ratio == pytest.approx(figure.value / figure.baseline)
    print(figure)
