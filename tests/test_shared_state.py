"""Shared state across processes (SPEC §12): two real `snowbot run --webhook` processes on
one PostgreSQL database, the updates posted to them in turn as a round-robin proxy would.
A change made through one counts in the other from the next update: an incident started
and closed, a role granted and revoked, a group bound, a unit added and joined; and
streets imported with `snowbot import-streets` while both run are used by both."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.engines import NewDatabase, raw
from tests.harness import STATION, eventually, location_update, run_cli
from tests.ports import free_port
from tests.test_webhook_many import SECRET, _post, _start, _text

pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)

COORD = SimUser(1, "Coordinator Wang", "en")
DISPATCHER = SimUser(77, "Dispatcher Li", "en")
GROUP = -100_555
OVERVIEW_TOKEN = "overview-token-0123456789"
HARBOUR = (50.3000, 127.6000)  # where the imported street is: 8 km from any other


def _message(update_id: int, user: SimUser, text: str, chat: int | None = None) -> str:
    """A command from `user`, in their private chat or in the group `chat`."""
    where: dict[str, object] = (
        {"id": user.id, "type": "private", "first_name": user.first_name}
        if chat is None
        else {"id": chat, "type": "supergroup", "title": "North team"}
    )
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": where,
        "from": user.as_json(),
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    return json.dumps({"update_id": update_id, "message": message})


class RoundRobin:
    """Posts each update to the next process in turn and waits for its answer."""

    def __init__(self, http: aiohttp.ClientSession, api: BotApiStandIn, ports: list[int]):
        self.http, self.api, self.ports = http, api, ports
        self.turn = itertools.cycle(range(len(ports)))
        self.ids = itertools.count(20_000)

    async def send(
        self,
        user: SimUser,
        text: str,
        chat: int | None = None,
        expect: str = "",
        via: int | None = None,
    ) -> str:
        """`text` from `user`, through the next process (or process `via`); the text of
        the first message to the chat after it that holds `expect` (other messages, such
        as a closing report, may come to the same chat meanwhile)."""
        body = _message(next(self.ids), user, text, chat)
        return await self._post(user, body, chat, expect, via)

    async def locate(self, user: SimUser, lat: float, lon: float, via: int | None = None) -> str:
        body = location_update(next(self.ids), user, lat, lon)
        return await self._post(user, body, None, "", via)

    async def _post(
        self, user: SimUser, body: str, chat: int | None, expect: str, via: int | None
    ) -> str:
        where = user.id if chat is None else chat
        before = self.api.count(where)
        await _post(self.http, self.ports[next(self.turn) if via is None else via], body)

        def answer() -> str | None:
            texts = [sent.text or "" for sent in self.api.sent[where][before:]]
            return next((text for text in texts if expect in text), None)

        found: str = await self.api.wait_for(answer, timeout=30)
        return found


def _current_incident(database: str) -> int:
    with raw(database) as db:
        (found,) = db.execute("SELECT id FROM incidents WHERE ended_at IS NULL").fetchone()
    return int(found)


def _shift_incident(database: str, user: SimUser) -> int:
    with raw(database) as db:
        (found,) = db.execute(
            "SELECT incident_id FROM shifts WHERE user_id = ? ORDER BY id DESC LIMIT 1",
            (user.id,),
        ).fetchone()
    return int(found)


def _tasks_by(database: str, user: SimUser) -> int:
    with raw(database) as db:
        (found,) = db.execute(
            "SELECT COUNT(*) FROM tasks WHERE created_by = ?", (user.id,)
        ).fetchone()
    return int(found)


@pytest.mark.timeout(180)
async def test_a_change_made_through_one_process_counts_in_the_other_from_the_next_update(
    tmp_path: Path, city_csv: Path, new_database: NewDatabase
) -> None:
    database = new_database()
    assert isinstance(database, str)
    api = BotApiStandIn()
    await api.start()
    api.group(GROUP, "North team")
    overview = free_port()  # served by the first process only
    common = (
        f'[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        f'webhook_secret = "{SECRET}"\n'
        f'[storage]\ndatabase = "{database}"\n[city]\ngazetteer = "{city_csv}"\n'
        f'[access]\nenrolment = "open"\ncoordinators = [{COORD.id}]\n'
    )
    config, second_config = tmp_path / "config.toml", tmp_path / "second.toml"
    config.write_text(
        f'{common}[dashboard]\nlisten = "127.0.0.1:{overview}"\ntoken = "{OVERVIEW_TOKEN}"\n',
        "utf-8",
    )
    second_config.write_text(f'{common}[dashboard]\nlisten = ""\n', "utf-8")
    ports = [free_port(), free_port()]
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(_start(config, logs[0], ports[0]))
        await eventually(lambda: api.webhook is not None, "the first webhook set", timeout=30)
        processes.append(_start(second_config, logs[1], ports[1]))
        await eventually(
            lambda: "serving the webhook beside it" in _text(logs[1]), "both serving", timeout=30
        )
        async with aiohttp.ClientSession() as http:
            bot = RoundRobin(http, api, ports)
            cadres = (SimUser(3000 + n, f"cadre {n}", "en") for n in itertools.count())

            async def check_in(via: int) -> SimUser:
                """A new cadre checks in through process `via`."""
                cadre = next(cadres)
                await bot.send(cadre, "/checkin", via=via)
                await bot.locate(cadre, *STATION, via=via)
                return cadre

            # both processes have counted into the first incident
            first = _current_incident(database)
            for via in range(len(ports)):
                assert _shift_incident(database, await check_in(via)) == first

            # the overview, served by the first process, shows a check-in through the second
            async def overview_person_times() -> int:
                async with http.get(
                    f"http://127.0.0.1:{overview}/api/tally",
                    headers={"Authorization": f"Bearer {OVERVIEW_TOKEN}"},
                ) as answer:
                    assert answer.status == 200, answer.status
                    return int((await answer.json())["person_times"])

            shown = await overview_person_times()
            await check_in(1)
            deadline = time.monotonic() + 15
            while await overview_person_times() != shown + 1:
                assert time.monotonic() < deadline, "the overview never showed the check-in"
                await asyncio.sleep(0.5)  # the bot's own time to notice, not a timing

            # an incident started through one process: both count into it from now on
            reply = await bot.send(COORD, "/incident start Second storm", expect="New incident")
            second = _current_incident(database)
            assert second != first, reply
            for via in range(len(ports)):
                assert _shift_incident(database, await check_in(via)) == second
            # ... and closed through the other: both count into its successor
            reply = await bot.send(COORD, "/incident close", expect="is closed")
            third = _current_incident(database)
            assert third not in (first, second), reply
            for via in range(len(ports)):
                assert _shift_incident(database, await check_in(via)) == third

            # a role granted through one process holds in both; revoked, in neither
            # (each waits for its own answer: notices of earlier acts, such as a new task's
            # announcement or "you are now a guest", may reach the same chat meanwhile)
            await bot.send(COORD, f"/grant {DISPATCHER.id} dispatcher", expect="is now a")
            for n, street in enumerate(["Station Road", "School Lane"], start=1):
                reply = await bot.send(
                    DISPATCHER, f"/newtask {street} 1 granted {n}", expect=f"granted {n}"
                )
                assert _tasks_by(database, DISPATCHER) == n, reply
            await bot.send(COORD, f"/revoke {DISPATCHER.id}", expect="is now a")
            for _ in ports:
                await bot.send(DISPATCHER, "/newtask River Road 1 revoked", expect="Only a")
                assert _tasks_by(database, DISPATCHER) == len(ports)
            await bot.send(COORD, f"/grant {DISPATCHER.id} dispatcher", expect="is now a")

            # a group bound through one process gets the tasks posted through either
            await bot.send(DISPATCHER, "/bind North", chat=GROUP)
            for n, street in enumerate(["North Market Street", "Station Road East"], start=1):
                await bot.send(DISPATCHER, f"/newtask {street} 1 bound {n}")
                await api.wait_for(
                    lambda n=n: any(f"bound {n}" in (m.text or "") for m in api.sent[GROUP]),
                    timeout=30,
                )

            # a unit added through one process is joined through the other
            await bot.send(COORD, "/unit add First Middle School")
            member = next(cadres)
            await bot.send(member, "/unit First Middle School")
            with raw(database) as db:
                (unit,) = db.execute(
                    "SELECT u.name FROM users p JOIN units u ON u.id = p.unit_id WHERE p.id = ?",
                    (member.id,),
                ).fetchone()
            assert unit == "First Middle School"

            # streets imported while both run: each process uses them within a minute
            harbour = tmp_path / "harbour.csv"
            harbour.write_text(
                f"district,street,lat,lon\nPort,Harbour Road,{HARBOUR[0]},{HARBOUR[1]}\n", "utf-8"
            )
            imported = run_cli(tmp_path, "import-streets", str(harbour))
            assert imported.returncode == 0, imported.stderr
            for port in ports:
                newcomer = next(cadres)

                async def uses_harbour(port: int = port, newcomer: SimUser = newcomer) -> bool:
                    before = api.count(newcomer.id)
                    body = location_update(next(bot.ids), newcomer, *HARBOUR)
                    await _post(http, port, body)
                    await api.wait_for(lambda: api.count(newcomer.id) > before, timeout=30)
                    return "Harbour Road" in (api.sent[newcomer.id][-1].text or "")

                deadline = time.monotonic() + 60
                while not await uses_harbour():
                    assert time.monotonic() < deadline, f"port {port} never used Harbour Road"
                    await asyncio.sleep(1)  # the bot's own time to notice, not a timing
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            assert await asyncio.to_thread(process.wait, 30) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        await api.stop()
    for log in logs:
        assert "Traceback" not in _text(log) and SECRET not in _text(log)
