"""/metrics over HTTP names its failures right (issue 26): an update whose handler fails is
a handler error, a message Telegram refuses is a Telegram error, and neither is the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.service import Snowbot
from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import CADRE, eventually, said
from tests.overview_harness import served, session

# two people who blocked the bot: Telegram refuses (403) whatever is sent to them
BLOCKED = (SimUser(80, "Blocked One", "en"), SimUser(81, "Blocked Two", "en"))


def _counter(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(f"snowbot_{name} "))
    return float(line.split()[1])


async def test_handler_failures_and_telegram_refusals_are_counted_apart(
    config: Config, city_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with served(config, city_csv) as s, session() as client:

        async def metrics() -> str:
            async with client.get(s.url("/metrics")) as r:
                assert r.status == 200
                return await r.text()

        # Telegram refuses the replies to two people
        for person in BLOCKED:
            s.api.remove_bot(person.id)
            await s.api.say(person, "/start")

        async def refused_twice() -> str | None:
            text = await metrics()
            return text if _counter(text, "telegram_errors_total") == 2 else None

        text = await eventually(refused_twice, "both refusals counted")
        assert _counter(text, "handler_errors_total") == 0

        # one update whose handler fails: apologised for, counted as the handler's
        async def broken(self: Snowbot, *args: object) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(Snowbot, "tasks_for", broken)
        assert (await s.api.ask(CADRE, "/tasks")).text == said("error.generic")
        monkeypatch.undo()
        text = await metrics()
        assert _counter(text, "handler_errors_total") == 1
        assert _counter(text, "telegram_errors_total") == 2
        assert _counter(text, "telegram_retries_total") == 0  # refused for good, not put off
