"""The Mini App over HTTP (SPEC §16): initData is the only way in, checked on every call;
an act in the app is the chat's own act (same rules, counts, announcements, replies)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from tests.harness import CADRE, COORD, DISPATCH, STATION, no_errors, run_cli, said
from tests.miniapp_harness import act, app_session, init_data, served_app, view
from tests.overview_harness import TOKEN, Served, make_dispatcher, session

pytestmark = pytest.mark.both_engines


async def tally(tmp_path: Path, config: Config) -> dict[str, object]:
    (tmp_path / "config.toml").write_text(f'[storage]\ndatabase = "{config.address}"\n', "utf-8")
    cli = await asyncio.to_thread(run_cli, tmp_path, "tally", "--json")
    assert cli.returncode == 0, cli.stderr
    found: dict[str, object] = json.loads(cli.stdout)
    return found


async def posted_task(s: Served) -> tuple[int, object]:
    """A dispatcher posts a task on Station Road for two; a cadre checks in beside it."""
    await make_dispatcher(s.api)
    posted = await s.api.ask(DISPATCH, "/newtask Station Road 2")
    match = re.search(r"#(\d+)", posted.text)
    assert match is not None
    await s.api.locate(CADRE, *STATION)
    return int(match.group(1)), posted


async def test_an_accept_in_the_app_is_the_chats_accept(
    config: Config, city_csv: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with served_app(config, city_csv) as s:
        task_id, announcement = await posted_task(s)
        before = await tally(tmp_path, config)
        async with app_session(init_data(CADRE, s.api.token)) as client:
            status, seen = await view(client, s.base)
            assert status == 200 and seen["role"] == "cadre"
            assert seen["cadre"]["on_duty"] and seen["cadre"]["free"] == 1
            assert [t["id"] for t in seen["cadre"]["tasks"]] == [task_id]
            echoed = s.api.count(CADRE.id)
            status, outcome = await act(client, s.base, do="accept", id=task_id)
            assert status == 200 and outcome["ok"], outcome
            assert f"#{task_id}" in outcome["text"]
            # the chat hears of it as of a press on a /tasks list: a reply, queued and sent
            told = await s.api.reply(CADRE.id, echoed)
            assert told.text.startswith(outcome["text"]) and "1/2" in told.text
            _, seen = await view(client, s.base)
            task = seen["cadre"]["tasks"][0]
            assert (task["accepted"], task["mine"], seen["cadre"]["free"]) == (1, 1, 0)
            # a second accept is refused as the chat refuses it, and changes nothing
            status, again = await act(client, s.base, do="accept", id=task_id)
            assert status == 200 and not again["ok"] and again["text"]
        after = await tally(tmp_path, config)
        assert before["tasks"] == {"open": 1, "in_progress": 0, "done": 0, "cancelled": 0}
        assert after["tasks"] == {"open": 0, "in_progress": 1, "done": 0, "cancelled": 0}
        assert (after["assigned"], after["available"]) == (1, 0)
        # the chat's announcement of the task is edited to show its places
        edits = await s.api.wait_for(lambda: announcement.edits)  # type: ignore[attr-defined]
        assert "1/2" in edits[-1], edits
        no_errors(caplog, s.api)


async def test_release_and_done_from_the_app(config: Config, city_csv: Path) -> None:
    async with served_app(config, city_csv) as s:
        task_id, _ = await posted_task(s)
        async with app_session(init_data(CADRE, s.api.token)) as client:
            assert (await act(client, s.base, do="accept", id=task_id))[1]["ok"]
            assert (await act(client, s.base, do="release", id=task_id))[1]["ok"]
            _, seen = await view(client, s.base)
            assert seen["cadre"]["tasks"][0]["accepted"] == 0
            assert (await act(client, s.base, do="accept", id=task_id))[1]["ok"]
            status, outcome = await act(client, s.base, do="done", id=task_id)
            assert status == 200 and outcome["ok"], outcome
            _, seen = await view(client, s.base)
            assert seen["cadre"]["tasks"] == []
        task = await s.running.service.task(task_id)
        assert task is not None and task.status.value == "done"


BAD = ["", "tma", "Bearer " + TOKEN]


async def test_forged_expired_and_missing_initdata_are_refused(
    config: Config, city_csv: Path, tmp_path: Path
) -> None:
    async with served_app(config, city_csv) as s:
        task_id, _ = await posted_task(s)
        good = init_data(CADRE, s.api.token)
        forged = good.replace(f"%22id%22%3A+{CADRE.id}", f"%22id%22%3A+{CADRE.id + 1}")
        assert forged != good
        refused = [
            None,
            "",
            forged,
            init_data(CADRE, "999:not-this-bot"),
            init_data(CADRE, s.api.token, time.time() - 25 * 3600),  # expired
            good.rpartition("&hash=")[0],
        ]
        before = await tally(tmp_path, config)
        for data in refused:
            async with app_session(data) as client:
                assert (await view(client, s.base))[0] == 401
                status, text = await act(client, s.base, do="accept", id=task_id)
                assert (status, text) == (401, "401: Unauthorized")
                async with client.post(s.url("/app/api/overview")) as r:
                    assert r.status == 401 and "Set-Cookie" not in r.headers
                async with client.get(s.url("/app/api/photo/report/1")) as r:
                    assert r.status == 401
        # the overview's token is no initData, and the overview's cookie no key to the app
        async with session() as client, client.get(s.url("/app/api/view")) as r:
            assert r.status == 401
        assert await tally(tmp_path, config) == before
        task = await s.running.service.task(task_id)
        assert task is not None and task.accepted == 0


async def test_the_page_needs_no_token_and_loads_only_from_here(
    config: Config, city_csv: Path
) -> None:
    async with served_app(config, city_csv) as s, app_session(None) as client:
        async with client.get(s.url("/app")) as r:
            assert r.status == 200
            page = await r.text()
            policy = r.headers["Content-Security-Policy"]
        assert (
            "default-src 'self'" in policy and "frame-ancestors https://web.telegram.org" in policy
        )
        assert "http" not in re.sub(r'"tiles": ""', "", page.split("<body>")[1])
        for path in re.findall(r'(?:src|href)="([^"]+)"', page):
            if path == "data:,":  # no icon: nothing asked of anyone
                continue
            assert path.startswith("/"), path
            async with client.get(s.url(path)) as r:
                assert r.status == 200, path
        # the overview itself still wants its token
        async with client.get(s.url("/")) as r:
            assert r.status == 401


async def test_a_cadre_cannot_do_a_dispatchers_part(config: Config, city_csv: Path) -> None:
    async with served_app(config, city_csv) as s:
        await posted_task(s)
        async with app_session(init_data(CADRE, s.api.token)) as client:
            _, seen = await view(client, s.base)
            assert "dispatcher" not in seen and not seen["overview"]
            street = s.running.service.directory.streets[0].id
            status, outcome = await act(client, s.base, do="post", street=street, needed=1)
            assert status == 200 and not outcome["ok"]
            assert outcome["text"] == said("refuse.role", role="dispatcher")
            async with client.post(s.url("/app/api/overview")) as r:
                assert r.status == 403 and "Set-Cookie" not in r.headers
            for body in ({"do": "nope", "id": 1}, {"do": "accept", "id": "1"}, {"do": "accept"}):
                assert (await act(client, s.base, **body))[0] == 400
            async with client.post(s.url("/app/api/act"), data=b"{not json") as r:
                assert r.status == 400
        assert len(await s.running.service.tasks_for(await s.running.service.person(CADRE.id))) == 1  # type: ignore[arg-type]


async def test_a_coordinator_opens_the_overview_signed_in_by_initdata(
    config: Config, city_csv: Path
) -> None:
    async with (
        served_app(config, city_csv) as s,
        app_session(init_data(COORD, s.api.token)) as client,
    ):
        _, seen = await view(client, s.base)
        assert seen["role"] == "coordinator" and seen["overview"]
        async with client.post(s.url("/app/api/overview")) as r:
            assert r.status == 200 and (await r.json()) == {"url": "/"}
            cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in r.url.raw_path
        async with client.get(s.url("/api/tally")) as r:
            assert r.status == 200  # the cookie, never a token in a URL
