"""One bot polling Telegram (SQLite, issue 27): a person's updates are still handled in the
order sent, one at a time, and a flood from one account is bounded as with webhooks: what
finds `[bot] max_queued_per_person` of theirs waiting is acknowledged and dropped, with one
notice, while another person's updates fetched in the same batches are all answered."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.engines import raw
from tests.harness import STATION, bot_config, eventually, running_bot, stand_in

BOUND = 10
FLOOD = 60  # fetched in one batch: the first BOUND are kept


async def test_polling_keeps_order_and_bounds_a_flood(config: Config, city_csv: Path) -> None:
    flooder = SimUser(8000, "flooder", "en")
    other = SimUser(8001, "cadre", "en")
    async with stand_in() as api:
        cfg = replace(bot_config(config, api, city_csv), max_queued_per_person=BOUND)
        await api.say(other, "/checkin 5")
        for _ in range(FLOOD):
            await api.say(flooder, "/whoami")
        await api.share_location(other, *STATION)
        await api.say(other, "/whoami")
        async with running_bot(cfg) as running:
            await api.wait_for(lambda: api.count(other.id) >= 3, timeout=60)
            await api.wait_for(lambda: api.count(flooder.id) >= BOUND + 1, timeout=60)
            health = running.service.health
            await eventually(lambda: health.updates_handled >= 3 + BOUND, "all handled")
        with raw(cfg.address) as db:
            query = "SELECT COUNT(*) FROM inbox WHERE person = ?"
            (kept,) = db.execute(query, (flooder.id,)).fetchone()
            (seen,) = db.execute("SELECT COUNT(*) FROM seen_updates").fetchone()
    texts = [sent.text for sent in api.sent[other.id]]
    assert "headcount: 5" in texts[1] and str(other.id) in texts[2], texts
    flooded = [sent.text for sent in api.sent[flooder.id]]
    notices = [t for t in flooded if "sending faster than I can answer" in t]
    assert len(notices) == 1 and len(flooded) == BOUND + 1, flooded
    assert kept == BOUND and seen == FLOOD + 3  # the dropped are marked handled too
