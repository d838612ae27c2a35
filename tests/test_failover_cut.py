"""A leader cut off from PostgreSQL (issue 20): its network to the database goes silent in
the middle of a burst of check-ins, with a transaction of it open on the server, and a
standby takes over within 15 s; never two polls at once, nothing lost, nothing twice.

The leader reaches the database through a relay in the test that then forwards nothing
more and closes nothing, as a cut cable: the server never notices, so only the lease
can hand the lead over, and only the new leader ending the old one's connections can
free the rows its open transaction holds."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from snowbot.settings.config_file import load_config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.engines import NewDatabase
from tests.harness import STATION, eventually, opened_bot, recount
from tests.proxies import CuttableProxy
from tests.test_kill9 import _polling, _start, in_hand
from tests.test_standby import REPORTS, TAKEOVER_SECONDS, _outbox_sent, _standing_by

# a write transaction begun (its turn taken: storage.postgres.engine), not yet committed;
# the queries themselves are prepared after a few uses and their text is sent no more
CUT_AT = b"LOCK TABLE schema_version"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*getUpdates", re.MULTILINE)


def _config(path: Path, api: BotApiStandIn, database: str, city_csv: Path) -> Path:
    path.write_text(
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'[storage]\ndatabase = "{database}"\n[city]\ngazetteer = "{city_csv}"\n'
        '[access]\nenrolment = "open"\n'
        f'[schedule]\nreport_chats = [{REPORTS}]\ntally_every = "2s"\n'
        '[dashboard]\nlisten = ""\n',
        "utf-8",
    )
    return path


def _first_poll(log: Path) -> float | None:
    """When the process of this log first called getUpdates (time.time()), if it has."""
    found = STAMP.search(log.read_text("utf-8")) if log.exists() else None
    if found is None:
        return None
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_a_standby_takes_over_a_leader_cut_off_from_the_database(
    tmp_path: Path, city_csv: Path, new_database: NewDatabase
) -> None:
    database = str(new_database("cut"))
    server, _name = database.rsplit("/", 1)
    host, port = server.rsplit("@", 1)[1].split(":")
    proxy = CuttableProxy(host, int(port))
    await proxy.start()
    api = BotApiStandIn()
    await api.start()
    api.group(REPORTS, "Command centre")
    cut_off = _config(
        tmp_path / "cut.toml", api, database.replace(f"{host}:{port}", proxy.address), city_csv
    )
    direct = _config(tmp_path / "direct.toml", api, database, city_csv)
    people = [SimUser(4000 + i, f"cadre {i}", "en") for i in range(100)]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    leader: subprocess.Popen[bytes] | None = None
    standby: subprocess.Popen[bytes] | None = None
    try:
        leader = _start(cut_off, first_log)
        await _polling(api, 0)
        standby = _start(direct, second_log)
        await eventually(lambda: _standing_by(second_log), "the second run standing by", 30)

        # The cut comes at the next write transaction begun, left open, once some
        # are answered; no update comes after it until the new leader polls, so a leader
        # that went on polling would meet the new one's poll (409)
        for user in people[:30]:
            await api.share_location(user, *STATION)
        await api.wait_for(lambda: sum(api.count(u.id) > 0 for u in people) >= 15, timeout=30)
        proxy.cut_after(CUT_AT)
        sent = 30
        while not proxy.is_cut.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proxy.is_cut.wait(), 1)
            if not proxy.is_cut.is_set():  # the first 30 were all written already
                assert sent < 35, "the leader wrote no check-in"
                await api.share_location(people[sent], *STATION)
                sent += 1
        assert sum(api.count(u.id) > 0 for u in people) < sent  # in the middle of it

        # the standby takes over: it polls (the old leader has stopped polling by then)
        await eventually(lambda: _first_poll(second_log) is not None, "the new leader polling", 30)
        takeover = (_first_poll(second_log) or 0.0) - proxy.cut_at
        print(f"takeover after the cut: {takeover:.1f} s")  # for the README (pytest -s)
        assert takeover < TAKEOVER_SECONDS, takeover
        log = first_log.read_text("utf-8")
        assert "lost the lead" in log and "Traceback" not in log

        reports = api.count(REPORTS)
        for user in people[sent:]:  # the rest, for the new leader alone
            await api.share_location(user, *STATION)
        await eventually(
            lambda: all(api.count(u.id) > 0 or u.id in in_hand(database) for u in people),
            "every check-in answered, or its answer in hand at the cut",
            timeout=30,  # well before the old transaction's idle timeout (60 s) would free it
        )
        await api.wait_for(lambda: api.count(REPORTS) > reports, timeout=30)  # its scheduler
        standby.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(standby.wait, 20) == 0
    finally:
        for process in (leader, standby):
            if process is not None and process.poll() is None:
                process.kill()  # the cut leader waits for its database for a while yet
                await asyncio.to_thread(process.wait, 10)
        await proxy.stop()
        await api.stop()

    assert api.conflicts == 0  # never two polls at once
    assert all(api.count(u.id) <= 1 for u in people), {u.id: api.count(u.id) for u in people}
    assert {u.id for u in people if api.count(u.id) == 0} <= in_hand(database)
    outbox = _outbox_sent(database)  # every message Telegram got is one row of the outbox
    for chat in [REPORTS, *(u.id for u in people)]:
        assert api.count(chat) <= outbox.get(chat, 0), chat
    counted = recount(database)
    assert counted["person_times"] == len(people) == counted["on_duty"]
    async with opened_bot(load_config(str(direct)), time.time) as service:
        tally = (await service.tally()).as_json()
    assert {k: tally[k] for k in counted} == counted
