"""The scheduler inside the real bot, with second-scale settings, over the fake Bot API.

These tests wait a few real seconds: that is the point (the JobQueue's own timers).
What they check is what arrives, never how fast.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from handlers.app import PollingBot
from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import (
    CADRE,
    COORD,
    DISPATCH,
    NORTH_GROUP,
    STATION,
    bot_config,
    eventually,
    running_bot,
    stand_in,
)

HELPER = SimUser(11, "Cadre Sun", "en")
REPORTS = -100300
GONE = -100999  # a report chat that does not exist (any more)


# what a scheduled job does is awaited this long: seconds apart when the machine is idle,
# more when other suites share its two cores (a welfare reminder once took more than 10 s)
BUSY = 30


def scheduled(config: Config, api: BotApiStandIn, city_csv: Path, **durations: float) -> Config:
    """The test config with second-scale schedule settings, reports in English."""
    cfg = bot_config(config, api, city_csv)
    settings = {k: timedelta(seconds=v) for k, v in durations.items()}
    daily = (datetime.now(cfg.city.timezone) + timedelta(seconds=5)).time().replace(microsecond=0)
    return replace(
        cfg,
        language="en",
        schedule=replace(cfg.schedule, report_chats=(REPORTS,), daily_report_at=daily, **settings),
    )


def reports(api: BotApiStandIn) -> list[str]:
    return [s.text for s in api.sent[REPORTS] if "Scheduled report" in s.text]


def sent_rows(database: Path, chat_id: int, kind: str = "", any_chat: bool = False) -> int:
    """How many messages (of a kind: 'escalate', 'reply'…) the outbox sent to a chat."""
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE (chat_id = ? OR ?) AND sent_at IS NOT NULL "
            "AND failed_at IS NULL AND key LIKE ? || '%'",
            (chat_id, any_chat, kind),
        ).fetchone()
    return int(row[0])


def _district(running: PollingBot, name: str) -> int:
    return running.service.directory.districts[name].id


async def test_reports_escalation_welfare_daily_and_restart(config: Config, city_csv: Path) -> None:
    async with stand_in() as api:
        api.group(REPORTS, "City HQ")
        api.group(NORTH_GROUP, "North crews")
        cfg = scheduled(
            config, api, city_csv, tally_every=2, escalate_unaccepted_after=3, max_shift=4
        )
        async with running_bot(cfg):
            await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher North")
            await api.ask(DISPATCH, "/bind North", chat_id=NORTH_GROUP)
            # reports arrive, and repeat
            await api.wait_for(lambda: len(reports(api)) >= 2, timeout=BUSY)
            assert "person-times" in reports(api)[0] and "nobody has cleared" in reports(api)[0]

            # a task nobody takes is escalated to its dispatcher, by #ID, and re-announced
            posted = await api.ask(DISPATCH, "/newtask Station Road 2")
            assert "#1" in posted.text
            told = await api.wait_for(
                lambda: [s for s in api.sent[DISPATCH.id] if "Nobody has accepted" in s.text],
                timeout=BUSY,
            )
            assert "#1" in told[0].text and "Station Road" in told[0].text
            again = await api.wait_for(
                lambda: [s for s in api.sent[NORTH_GROUP] if "Still nobody" in s.text]
            )
            assert "#1" in again[0].text and again[0].button("Accept")

            # a long shift: a kind reminder, then closed, its person-time kept
            await api.locate(CADRE, *STATION)
            await api.wait_for(
                lambda: any("will be closed" in s.text for s in api.sent[CADRE.id]), timeout=BUSY
            )
            await api.wait_for(
                lambda: any("shift is closed" in s.text for s in api.sent[CADRE.id]), timeout=BUSY
            )
            closed = next(s.text for s in api.sent[CADRE.id] if "shift is closed" in s.text)
            assert "1 person-time(s) stay counted" in closed
            tally = await api.ask(DISPATCH, "/tally all")  # bound to North: the city
            assert "1 person-times" in tally.text and "on duty: 0" in tally.text

            # the day's summary at its time (5 s after the start; what it counts is
            # tested in test_sweeps, where the clock is ours)
            summary = await api.wait_for(
                lambda: [s for s in api.sent[REPORTS] if "Day summary" in s.text], timeout=BUSY
            )
            assert "Turnout:" in summary[0].text and "Busiest district" in summary[0].text

        # after a restart, reports resume
        before = len(reports(api))
        async with running_bot(cfg):
            await api.wait_for(lambda: len(reports(api)) >= before + 2, timeout=BUSY)
        # nothing was sent twice: every message in these chats is one row of the outbox
        assert api.count(REPORTS) == sent_rows(cfg.database, REPORTS)
        escalations = [s for s in api.sent[DISPATCH.id] if "Nobody has accepted" in s.text]
        assert len(escalations) == sent_rows(cfg.database, DISPATCH.id, "escalate")
        assert len([s for s in api.sent[REPORTS] if "Day summary" in s.text]) == 1
        assert len([s for s in api.sent[CADRE.id] if "will be closed" in s.text]) == 1


async def test_gone_chats_are_skipped_and_a_removed_group_is_unbound(
    config: Config, city_csv: Path
) -> None:
    async with stand_in() as api:
        api.group(REPORTS, "City HQ")
        api.group(NORTH_GROUP, "North crews")
        cfg = scheduled(config, api, city_csv, tally_every=1)
        cfg = replace(cfg, schedule=replace(cfg.schedule, report_chats=(GONE, REPORTS)))
        async with running_bot(cfg) as running:
            await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher North")
            await api.ask(DISPATCH, "/bind North", chat_id=NORTH_GROUP)
            # the missing report chat does not stop the others
            await api.wait_for(lambda: len(reports(api)) >= 2, timeout=BUSY)
            api.remove_bot(NORTH_GROUP)
            await api.ask(DISPATCH, "/newtask Station Road 2")
            note = await api.wait_for(
                lambda: [s for s in api.sent[DISPATCH.id] if "can no longer post" in s.text],
                timeout=BUSY,
            )
            assert "North crews" in note[0].text and "/bind North" in note[0].text
            assert await running.service.chats_for_district(_district(running, "North")) == []
            # and the bot carries on
            assert "Hello" in (await api.ask(CADRE, "/start")).text
            count = len(reports(api))
            await api.wait_for(lambda: len(reports(api)) > count, timeout=BUSY)


async def test_groups_that_become_supergroups_are_followed_to_their_new_ids(
    config: Config, city_csv: Path
) -> None:
    south_group, new_south, new_north, new_reports = -100400, -100401, -100201, -100301
    async with stand_in() as api:
        api.group(REPORTS, "City HQ")
        api.group(NORTH_GROUP, "North crews")
        api.group(south_group, "South crews")
        cfg = scheduled(config, api, city_csv, tally_every=1)
        async with running_bot(cfg) as running:
            bot = running.service
            north_id, south_id = _district(running, "North"), _district(running, "South")
            await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher North")
            await api.ask(DISPATCH, "/bind North", chat_id=NORTH_GROUP)
            await api.ask(COORD, "/bind South", chat_id=south_group)
            await api.wait_for(lambda: len(reports(api)) >= 1)
            # the bot hears of South's upgrade in an update; of the others only when it
            # sends there and Telegram answers with the new id
            await api.upgrade_group(south_group, new_south, tell=True)

            async def south_moved() -> bool:
                return await bot.chats_for_district(south_id) == [new_south]

            await eventually(south_moved, "South's binding follows the update to its new id")
            await api.upgrade_group(NORTH_GROUP, new_north, tell=False)
            await api.upgrade_group(REPORTS, new_reports, tell=False)
            await api.ask(DISPATCH, "/newtask Station Road 2")
            await api.ask(COORD, "/newtask River Road 1")
            north = await api.wait_for(lambda: [s for s in api.sent[new_north] if "#1" in s.text])
            await api.wait_for(lambda: [s for s in api.sent[new_south] if "#2" in s.text])
            await api.wait_for(lambda: [s for s in api.sent[new_reports] if "Scheduled" in s.text])
            assert await bot.chats_for_district(north_id) == [new_north]
            assert await bot.chats_for_district(south_id) == [new_south]
            # the announcement in the new group works as before
            await api.locate(CADRE, *STATION)
            assert "joined" in (await api.click(CADRE, north[0], "Accept"))["text"]
            count = len(api.sent[new_reports])
            await api.wait_for(lambda: len(api.sent[new_reports]) > count)
        # nothing more reached the old ids, and no report period came twice
        assert not [s for s in api.sent[NORTH_GROUP] if "#1" in s.text]
        assert not [s for s in api.sent[south_group] if "#2" in s.text]
        texts = [s.text for s in api.sent[REPORTS] + api.sent[new_reports]]
        assert len(texts) == sent_rows(cfg.database, new_reports) + sent_rows(cfg.database, REPORTS)


def _waiting(database: Path, prefix: str) -> int:
    return len([key for key, _ in waiting_rows(database) if key.startswith(prefix)])


def waiting_rows(database: Path) -> list[tuple[str, int]]:
    """(key, chat) of every message the outbox still has to send."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT key, chat_id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        ).fetchall()
    return [(str(key), int(chat)) for key, chat in rows]


async def test_an_outage_of_telegram_loses_nothing_and_doubles_nothing(
    config: Config, city_csv: Path
) -> None:
    """The issue's outage, on a second-scale schedule: first every send fails with 502 while
    updates still come in, then nothing answers at all (connections refused). Each phase
    lasts until what it is about has happened, and fails loudly if that never comes."""
    async with stand_in() as api:
        api.group(REPORTS, "City HQ")
        api.group(NORTH_GROUP, "North crews")
        cfg = scheduled(config, api, city_csv, tally_every=2, escalate_unaccepted_after=3)
        async with running_bot(cfg) as running:
            await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher North")
            await api.ask(DISPATCH, "/bind North", chat_id=NORTH_GROUP)
            await api.ask(DISPATCH, "/newtask Station Road 2")  # #1
            (first,) = await api.wait_for(
                lambda: [s for s in api.sent[NORTH_GROUP] if "#1" in s.text]
            )
            await api.locate(HELPER, *STATION)

            sends = {"sendMessage", "editMessageText", "answerCallbackQuery"}
            api.failing, api.failing_only = 502, frozenset(sends)
            await api.say(DISPATCH, "/newtask School Lane 1")  # #2, posted in the outage
            await api.share_location(CADRE, *STATION)  # a check-in in the outage
            await api.press(HELPER, first, first.button("Accept")["callback_data"])

            async def taken_in() -> bool:  # the updates were handled, their replies wait
                keys = [key for key, _ in waiting_rows(cfg.database)]
                tally = await running.service.tally()
                return (
                    len([k for k in keys if k.startswith("reply:")]) == 2
                    and "announce:2" in keys
                    and (tally.person_times, tally.tasks["in_progress"]) == (2, 1)
                )

            await eventually(taken_in, "updates handled while every send fails", timeout=20)
            await api.unplug()
            superseded_then = await running.service.superseded_reports()

            async def piled_up() -> bool:  # reports and #2's escalation wait for Telegram
                return (
                    # each newer report replaces the one waiting (issue 21)
                    await running.service.superseded_reports() >= superseded_then + 3
                    and _waiting(cfg.database, "escalate:2:") >= 2  # the dispatcher, the group
                )

            await eventually(piled_up, "reports and escalations while unreachable", timeout=30)
            held = waiting_rows(cfg.database)
            api.failing = api.failing_only = None
            await api.plug()

            # what the outage produced waited in the outbox: reports, escalations of #2
            # (to the dispatcher and re-announced in the group) and #2's announcement
            kinds = {key.split(":")[0] for key, _ in held}
            assert {"escalate", "announce"} <= kinds, held
            # of the reports, the newest only (a day summary also replaces a waiting tally)
            reports_held = [k for k, c in held if c == REPORTS and k.split(":")[0] != "reply"]
            assert reports_held and len([k for k in reports_held if k.startswith("tally")]) <= 1
            assert ("announce:2", NORTH_GROUP) in held
            # it all goes out once Telegram is back, and the bot takes commands again
            await api.wait_for(lambda: not set(held) & set(waiting_rows(cfg.database)), timeout=60)
            listed = await api.ask(CADRE, "/tasks", timeout=60)  # PTB's polling waits ≤ 30 s
            assert "#2" in listed.text
            # the replies Telegram refused in the outage came afterwards, with their buttons
            posted = [s for s in api.sent[DISPATCH.id] if "Task posted:\n#2" in s.text]
            on_duty = [s for s in api.sent[CADRE.id] if "On duty at Station Road" in s.text]
            assert len(posted) == 1 and posted[0].button("Accept")
            assert len(on_duty) == 1 and on_duty[0].button("#1")
            # the announcement Telegram would not let the bot edit shows who joined after all
            await api.wait_for(lambda: "1/2" in first.text)

        # once each: every message in these chats is one sent row of the outbox
        assert api.count(REPORTS) == sent_rows(cfg.database, REPORTS)
        # (the reply to /bind included: replies go through the outbox too)
        assert api.count(NORTH_GROUP) == sent_rows(cfg.database, NORTH_GROUP)
        assert len([s for s in api.sent[NORTH_GROUP] if "New task:\n#2" in s.text]) == 1
        escalations = [s for s in api.sent[DISPATCH.id] if "Nobody has accepted" in s.text]
        assert len(escalations) == sent_rows(cfg.database, DISPATCH.id, "escalate") >= 1


async def test_announcements_beyond_the_flood_limit_arrive_once_each(
    config: Config, city_csv: Path
) -> None:
    groups = [-200_000 - g for g in range(6)]
    async with stand_in() as api:
        for chat in groups:
            api.group(chat, f"North crew {chat}")
        cfg = bot_config(config, api, city_csv)
        async with running_bot(cfg):
            await api.ask(COORD, f"/grant {DISPATCH.id} dispatcher North")
            for chat in groups:
                await api.ask(DISPATCH, "/bind North", chat_id=chat)
            api.rate_limit = 2  # messages a second; beyond it the stand-in answers 429
            posted = await api.ask(DISPATCH, "/newtask Station Road 2", timeout=30)
            assert "#1" in posted.text
            announced = [lambda c=c: [s for s in api.sent[c] if "#1" in s.text] for c in groups]
            await api.wait_for(lambda: all(found() for found in announced), timeout=60)
            api.rate_limit = None

            async def recorded() -> bool:  # each is recorded as sent once Telegram answered
                return not waiting_rows(cfg.database)

            await eventually(recorded, "every announcement is recorded as sent")
        assert sent_rows(cfg.database, 0, "announce", any_chat=True) == len(groups)
        assert all(len([s for s in api.sent[c] if "#1" in s.text]) == 1 for c in groups)
        assert api.calls["sendMessage"] > len(groups) + 2  # some were refused with 429 and retried
