"""Many people at once through the real bot (updates are handled concurrently): every
invariant holds, and a role is checked when a button is pressed, not when it was sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import (
    COORD,
    DISPATCH,
    STATION,
    bot_config,
    no_errors,
    running_bot,
    stand_in,
    task_of,
)

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


async def _crowd(api: BotApiStandIn, first: int, n: int) -> list[SimUser]:
    people = [SimUser(first + i, f"cadre {first + i}", "en") for i in range(n)]
    for user in people:
        await api.share_location(user, *STATION)
    await api.wait_for(lambda: all(api.count(u.id) >= 1 for u in people), timeout=30)
    return people


async def test_twenty_presses_and_ten_commands_for_three_places(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        pressers = await _crowd(api, 100, 20)
        typers = await _crowd(api, 200, 10)
        first = await api.ask(COORD, "/newtask Station Road 3")
        second = await api.ask(COORD, "/newtask School Lane 3")
        assert "#1" in first.text and "#2" in second.text

        # 20 Accept presses on the same message, all sent before any is answered
        queries = [
            await api.press(u, first, first.button("Accept")["callback_data"]) for u in pressers
        ]
        answers = [(await api.answer(q, timeout=30))["text"] for q in queries]
        assert sum("joined task #1" in a for a in answers) == 3
        assert sum("is full" in a for a in answers) == 17

        # 10 /accept commands at once
        before = {u.id: api.count(u.id) for u in typers}
        for user in typers:
            await api.say(user, "/accept 2")
        await api.wait_for(lambda: all(api.count(u.id) > before[u.id] for u in typers), timeout=30)
        replies = [api.sent[u.id][before[u.id]].text for u in typers]
        assert sum("joined task #2" in r for r in replies) == 3
        assert sum("is full" in r for r in replies) == 7

        # two /done at once: done once, the other told it is already done
        joined = [u for u, r in zip(typers, replies, strict=True) if "joined" in r][:2]
        before = {u.id: api.count(u.id) for u in joined}
        for user in joined:
            await api.say(user, "/done 2")

        # (the other holder may also hear who marked it done, SPEC §14: not an answer)
        def answers(u: SimUser) -> list[str]:
            sent = api.sent[u.id][before[u.id] :]
            return [m.text for m in sent if "marked done by" not in m.text]

        await api.wait_for(lambda: all(answers(u) for u in joined), timeout=30)
        dones = [answers(u)[0] for u in joined]
        assert sorted("already done" in d for d in dones) == [False, True]

        for task_id in (1, 2):
            task = await task_of(running.service, task_id)
            assert task is not None and task.accepted == 3
        tally = await running.service.tally()
        assert tally.tasks["done"] == 1 and tally.person_times == 30
    no_errors(caplog, api)  # a lost race is a refusal, never a failure


async def test_a_revoked_dispatchers_old_button_does_nothing(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher North")
        posted = await api.ask(DISPATCH, "/newtask Station Road 2")
        await api.ask(COORD, f"/revoke {DISPATCH.id}")
        pressed = await api.click(DISPATCH, posted, "Done")
        assert "Only people holding places on task #1" in pressed["text"]
        cancelled = await api.ask(DISPATCH, "/cancel 1")
        assert "Only a dispatcher" in cancelled.text
        task = await task_of(running.service, 1)
        assert task is not None and task.status == "open"
