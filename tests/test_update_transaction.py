"""One update, one transaction (`snowbot.domain.handling`): what an update changes is committed
with its handled mark and its replies, never before; a transaction the database gives up
(PostgreSQL, against another process) keeps nothing, and its updates are handled again
and answered once."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from snowbot.domain.handling import RedoUpdate, handling
from snowbot.service import Snowbot
from snowbot.settings.config import Config
from storage.open_transaction import TransactionLost
from tests.engines import raw
from tests.harness import CADRE, STATION, bot_config, opened_bot, person, running_bot, stand_in

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines


def users(config: Config) -> set[int]:
    with raw(config.address) as db:
        return {int(r[0]) for r in db.execute("SELECT id FROM users").fetchall()}


def marked(config: Config) -> set[int]:
    with raw(config.address) as db:
        return {int(r[0]) for r in db.execute("SELECT update_id FROM seen_updates").fetchall()}


def lose_next_commit(bot: Snowbot, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next commit of the updates' transaction fails as PostgreSQL fails one that
    clashed with another process's; returns the list that counts the losses."""
    engine = bot.store._store  # type: ignore[attr-defined]  # the engine under the watch
    lost: list[int] = []
    real = engine._commit_hop  # type: ignore[attr-defined]

    async def once() -> None:
        if not lost:
            lost.append(1)
            raise TransactionLost  # not committed: rolled back by the engine
        await real()

    monkeypatch.setattr(engine, "_commit_hop", once)
    return lost


async def test_an_updates_change_is_committed_with_its_mark_and_not_before(
    config: Config, city_csv: Path
) -> None:
    async with opened_bot(config, time.time, city_csv) as bot:
        with handling(500):
            await person(bot, 70)  # registered: a write, run at once
            assert (await bot.person(70)) is not None  # seen inside the update's transaction
            assert 70 not in users(config)  # and by nobody else yet
            await bot.handled(500, [])
            assert 70 in users(config) and 500 in marked(config)
        await person(bot, 71)  # outside any update: committed before it returns
        assert 71 in users(config)


async def test_a_lost_transaction_keeps_nothing_of_its_updates_and_reruns_other_writes(
    config: Config, city_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with opened_bot(config, time.time, city_csv) as bot:
        lost = lose_next_commit(bot, monkeypatch)
        joined = asyncio.Event()

        async def update() -> None:
            with handling(600):
                await person(bot, 80)
                joined.set()
                await asyncio.sleep(0.05)  # the write from outside joins meanwhile
                await bot.handled(600, [])

        handled = asyncio.create_task(update())
        await joined.wait()
        await bot.keep_updates([(601, "{}")])  # outside any update: run again, committed
        with pytest.raises(RedoUpdate):
            await handled
        assert lost == [1]
        assert 80 not in users(config) and 600 not in marked(config)
        assert await bot.unhandled_updates() == ["{}"]
        with handling(600, tries=2):  # handled again: this time it commits
            await person(bot, 80)
            with pytest.raises(RedoUpdate):  # (a write of the lost try is refused)
                await asyncio.create_task(_write_as_lost(bot))
            await bot.handled(600, [])
        assert 80 in users(config) and 600 in marked(config)


async def _write_as_lost(bot: Snowbot) -> None:
    with handling(602) as scope:
        scope.lost = True
        await person(bot, 81)


async def test_an_update_whose_transaction_is_lost_is_handled_again_and_answered_once(
    config: Config,
    city_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "snowbot")
    async with stand_in() as api, running_bot(bot_config(config, api, city_csv)) as running:
        lost = lose_next_commit(running.service, monkeypatch)
        await api.share_location(CADRE, *STATION)
        reply = await api.reply(CADRE.id, 0)
        assert reply.text.startswith("✅ On duty at Station Road"), reply.text
        assert lost == [1]
        assert "clashed with another process: handling it again" in caplog.text
        tally = await running.service.tally()
        assert (tally.person_times, tally.on_duty) == (1, 1)
        assert "Hello" in (await api.ask(CADRE, "/start")).text
    assert api.count(CADRE.id) == 2  # the check-in's one answer, then /start's
