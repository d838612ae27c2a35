"""The one-screen overview over HTTP (SPEC §8): every path, the token, the refusals, the
live feed, and /api/tally against `snowbot tally --json` byte for byte."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from snowbot.settings.config import Config
from tests.harness import CADRE, DISPATCH, LEADER, STATION, eventually, no_errors, run_cli
from tests.overview_harness import TOKEN, make_dispatcher, read_event, served, session

# every test here runs on SQLite and on PostgreSQL (tests/engines.py)
pytestmark = pytest.mark.both_engines

PATHS = [
    "/",
    "/api/tally",
    "/api/streets",
    "/api/street-states",
    "/api/positions",
    "/api/turnout",
    "/api/reports",
    "/api/events",
    "/metrics",
    "/static/overview.js",
    "/static/vendor/echarts/echarts.min.js",
    "/no/such/path",
]


async def test_every_path_but_healthz_needs_the_token(config: Config, city_csv: Path) -> None:
    async with served(config, city_csv) as s:
        for token in (None, "wrong-token-wrong-token", TOKEN[:-1], TOKEN + "x"):
            async with session(token) as client:
                for path in PATHS:
                    async with client.get(s.url(path)) as r:
                        assert r.status == 401, (token, path)
                        assert await r.text() == "401: Unauthorized"
                        assert "Set-Cookie" not in r.headers
                async with client.get(s.url(f"/?token={token or ''}")) as r:
                    assert r.status == 401
                async with client.get(s.url("/healthz")) as r:
                    assert (r.status, await r.text()) == (200, "ok")


async def test_the_token_once_in_the_link_then_a_cookie(config: Config, city_csv: Path) -> None:
    async with served(config, city_csv) as s, session(None) as client:
        async with client.get(s.url(f"/?token={TOKEN}")) as r:
            assert r.status == 200
            cookie = r.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        # the link's token is now in the cookie: the bookmark without it works
        for path in PATHS[:-1]:
            async with client.get(s.url(path)) as r:
                assert r.status == 200, path
                if path == "/api/events":
                    break
        async with client.get(s.url("/no/such/path")) as r:
            assert r.status == 404


async def test_bearer_unknown_paths_wrong_methods_and_headers(
    config: Config, city_csv: Path
) -> None:
    async with served(config, city_csv) as s, session() as client:
        async with client.get(s.url("/api/tally")) as r:
            assert r.status == 200
            assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        for path in ("/nope", "/api", "/api/tally/x", "/static/../pyproject.toml", "/static/"):
            async with client.get(s.url(path)) as r:
                assert r.status in (403, 404), path
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            for path in ("/", "/api/tally", "/api/events", "/metrics", "/healthz"):
                async with client.request(method, s.url(path)) as r:
                    assert r.status == 405, (method, path)


async def test_the_page_speaks_chinese_by_default_and_english_when_asked(
    config: Config, city_csv: Path
) -> None:
    async with served(config, city_csv) as s, session() as client:
        pages = {}
        for query in ("", "?lang=en", "?lang=xx", "?lang=", "?lang=%00%ff", "?lang=en&lang=zh"):
            async with client.get(s.url("/" + query)) as r:
                assert r.status == 200
                pages[query] = await r.text()
        assert "一屏总览" in pages[""] and 'lang="zh-CN"' in pages[""]
        assert "one-screen overview" in pages["?lang=en"] and 'lang="en"' in pages["?lang=en"]
        for bad in ("?lang=xx", "?lang=", "?lang=%00%ff"):
            assert pages[bad] == pages[""]
        # no script but files from the server itself, and none inline
        page = pages[""]
        assert "http://" not in page and "https://" not in page and "//cdn" not in page
        assert page.count("<script src=") == 3
        assert "<script>" not in page


async def test_api_tally_is_snowbot_tally_json_byte_for_byte(
    config: Config, city_csv: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with served(config, city_csv) as s, session() as client:
        api = s.api
        await make_dispatcher(api)
        await api.ask(LEADER, "/checkin 7")
        await api.locate(LEADER, *STATION)
        await api.locate(CADRE, *STATION)
        await api.ask(DISPATCH, "/newtask Station Road 2")
        await api.ask(DISPATCH, "/newtask River Road 3")
        await api.ask(CADRE, "/accept 1")
        await api.ask(CADRE, "/done 1")
        await api.ask(DISPATCH, "/cancel 2")
        async with client.get(s.url("/api/tally")) as r:
            served_bytes = await r.read()
        (tmp_path / "config.toml").write_text(
            f'[storage]\ndatabase = "{config.address}"\n', "utf-8"
        )
        cli = await asyncio.to_thread(run_cli, tmp_path, "tally", "--json")
        assert cli.returncode == 0, cli.stderr
        assert served_bytes == cli.stdout.encode()
        body = json.loads(served_bytes)
        assert (body["person_times"], body["on_duty"], body["tasks"]["done"]) == (8, 8, 1)
        no_errors(caplog, api)


async def test_streets_are_geojson_coloured_by_state(config: Config, city_csv: Path) -> None:
    async def states(client: aiohttp.ClientSession) -> dict[str, str]:
        async with client.get(s.url("/api/streets")) as r:
            assert r.headers["Content-Encoding"] == "gzip"  # aiohttp asks for it
            collection = await r.json(content_type=None)
        assert collection["type"] == "FeatureCollection"
        found = {}
        for f in collection["features"]:
            assert f["geometry"]["type"] == "Point" and len(f["geometry"]["coordinates"]) == 2
            p = f["properties"]
            found[f"{p['district']}/{p['street']}"] = p["state"]
        return found

    async with served(config, city_csv) as s, session() as client:
        api = s.api
        before = await states(client)
        assert len(before) == 7 and set(before.values()) == {"unserved"}
        await make_dispatcher(api)
        await api.ask(DISPATCH, "/newtask Station Road 2")
        assert (await states(client))["North/Station Road"] == "open"
        await api.locate(CADRE, *STATION)
        await api.ask(CADRE, "/accept 1")
        assert (await states(client))["North/Station Road"] == "in_progress"
        await api.ask(CADRE, "/done 1")
        now = await states(client)
        assert now["North/Station Road"] == "served"
        # the page's compact refresh: one character a street, in the order of /api/streets
        async with client.get(s.url("/api/streets")) as r:
            order = [f["id"] for f in (await r.json(content_type=None))["features"]]
        async with client.get(s.url("/api/street-states")) as r:
            compact = await r.json()
        station = next(
            st.id for st in s.running.service.directory.streets if st.name == "Station Road"
        )
        assert compact["states"] == "".join("3" if i == station else "0" for i in order)
        assert compact["city"].startswith("7-")
        assert [v for k, v in now.items() if k != "North/Station Road"] == ["unserved"] * 6
        # a screen that has the streets already gets 304
        async with client.get(s.url("/api/streets")) as r:
            etag = r.headers["ETag"]
        async with client.get(s.url("/api/streets"), headers={"If-None-Match": etag}) as r:
            assert r.status == 304
        async with client.get(
            s.url("/api/streets"), headers={"Accept-Encoding": "identity"}, auto_decompress=False
        ) as r:
            assert "Content-Encoding" not in r.headers
            assert json.loads(await r.read())["type"] == "FeatureCollection"
        async with client.get(s.url("/api/streets"), auto_decompress=False) as r:
            assert json.loads(gzip.decompress(await r.read()))["type"] == "FeatureCollection"


async def test_an_event_follows_each_change_within_two_seconds(
    config: Config, city_csv: Path
) -> None:
    async with served(config, city_csv) as s, session() as client:
        api = s.api
        await make_dispatcher(api)
        async with client.get(s.url("/api/events")) as events:
            assert events.headers["Content-Type"].startswith("text/event-stream")
            first = await read_event(events)
            assert first["person_times"] == 0
            for step, check in (
                (lambda: api.locate(CADRE, *STATION), lambda t: t["on_duty"] == 1),
                (
                    lambda: api.ask(DISPATCH, "/newtask Station Road 2"),
                    lambda t: t["tasks"]["open"] == 1,
                ),
                (lambda: api.ask(CADRE, "/accept 1"), lambda t: t["tasks"]["in_progress"] == 1),
                (lambda: api.ask(CADRE, "/done 1"), lambda t: t["streets"]["served"] == 1),
                (lambda: api.ask(CADRE, "/checkout"), lambda t: t["on_duty"] == 0),
            ):
                await step()
                tally = await asyncio.wait_for(read_event(events), 2.0)
                while not check(tally):  # an event of an earlier part of the change
                    tally = await asyncio.wait_for(read_event(events), 2.0)


async def test_positions_show_where_people_are_never_who(config: Config, city_csv: Path) -> None:
    async with served(config, city_csv) as s, session() as client:
        await s.api.ask(LEADER, "/checkin 5")
        await s.api.locate(LEADER, *STATION)
        async with client.get(s.url("/api/positions")) as r:
            assert await r.json() == {"positions": [[STATION[0], STATION[1], 5]]}
        async with client.get(s.url("/api/turnout")) as r:
            turnout = await r.json()
        north = next(d for d in turnout["districts"] if d["district"] == "North")
        assert north["person_times"][-1] == 5 and north["on_duty"][-1] == 5
        assert len(turnout["hours"]) == len(north["on_duty"])
        # checked out: no longer a dot on the map, still counted in the turnout
        await s.api.ask(LEADER, "/checkout")
        async with client.get(s.url("/api/positions")) as r:
            assert await r.json() == {"positions": []}
        async with client.get(s.url("/api/turnout")) as r:
            north = next(d for d in (await r.json())["districts"] if d["district"] == "North")
        assert north["person_times"][-1] == 5 and north["on_duty"][-1] == 0


async def test_no_name_or_telegram_id_anywhere(config: Config, city_csv: Path) -> None:
    async with served(config, city_csv) as s, session() as client:
        api = s.api
        await make_dispatcher(api)
        await api.locate(CADRE, *STATION)
        await api.ask(LEADER, "/checkin 3")
        await api.locate(LEADER, *STATION)
        await api.ask(DISPATCH, "/newtask Station Road 2 near Cadre Zhao's house")
        await api.ask(CADRE, "/accept 1")
        bodies = []
        for path in [*PATHS[:7], "/metrics", "/?lang=en"]:
            async with client.get(s.url(path)) as r:
                bodies.append(await r.text())
        async with client.get(s.url("/api/events")) as events:
            bodies.append(json.dumps(await read_event(events)))
        everything = "\n".join(bodies)
        for who in (CADRE, LEADER, DISPATCH):
            assert who.first_name not in everything
            assert f'"{who.id}"' not in everything and f":{who.id}," not in everything
        assert "Zhao" not in everything  # not even in a task's note


async def test_metrics_are_prometheus_text_with_districts_and_health(
    config: Config, city_csv: Path
) -> None:
    async with served(config, city_csv) as s, session() as client:
        await s.api.locate(CADRE, *STATION)
        async with client.get(s.url("/metrics")) as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await r.text()
    lines = text.splitlines()
    assert "snowbot_person_times 1.0" in lines
    assert 'snowbot_district_person_times{district="North"} 1.0' in lines
    assert 'snowbot_district_on_duty{district="South"} 0.0' in lines
    assert 'snowbot_tasks{status="open"} 0.0' in lines
    assert 'snowbot_streets{state="unserved"} 7.0' in lines
    handled = next(line for line in lines if line.startswith("snowbot_updates_handled_total"))
    assert float(handled.split()[1]) >= 1
    for name in ("handler_errors_total", "telegram_errors_total", "telegram_retries_total"):
        assert f"snowbot_{name} 0.0" in lines
    assert "snowbot_outbox_backlog 0.0" in lines


async def test_healthz_is_503_when_the_database_does_not_answer(
    config: Config, city_csv: Path
) -> None:
    async with served(config, city_csv) as s, session(None) as client:
        async with client.get(s.url("/healthz")) as r:
            assert (r.status, await r.text()) == (200, "ok")

        async def broken() -> int:
            raise OSError("disk gone")

        s.running.service.store.schema_version = broken  # type: ignore[method-assign]
        async with client.get(s.url("/healthz")) as r:
            assert r.status == 503
            assert "disk gone" not in await r.text()


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.timeout(90)
async def test_two_hundred_screens_come_and_go_and_leave_nothing(
    config: Config, city_csv: Path
) -> None:
    async with served(config, city_csv) as s:
        feed = s.overview.feed
        async with session() as warm, warm.get(s.url("/api/events")) as r:
            await read_event(r)  # the tally is counted once before the baseline
        await eventually(lambda: not feed.screens, "the warm-up screen is gone")
        tasks, files = len(asyncio.all_tasks()), _open_files()

        async def screen(client: aiohttp.ClientSession, leave_early: bool) -> None:
            async with client.get(s.url("/api/events")) as r:
                if not leave_early:
                    await read_event(r)

        clients = [session() for _ in range(4)]
        try:
            await asyncio.gather(
                *(screen(clients[i % 4], i % 2 == 0) for i in range(200)),
            )
            await s.api.locate(CADRE, *STATION)  # a change while some are leaving
        finally:
            for c in clients:
                await c.close()
        await eventually(lambda: not feed.screens, "every screen is forgotten", timeout=10)
        await eventually(
            lambda: len(asyncio.all_tasks()) <= tasks, "no task is left behind", timeout=10
        )
        await eventually(lambda: _open_files() <= files, "no file handle is left open", timeout=10)


@pytest.mark.timeout(120)
async def test_demo_serve_keeps_serving_the_storm_until_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWBOT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "snowbot",
        "demo",
        "--quiet",
        "--serve",
        cwd=tmp_path,  # no config.toml here: the defaults
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        link = first.split("the overview: ", 1)[1].strip()
        assert link.startswith("http://127.0.0.1:") and "/?token=" in link
        while "Ctrl+C" not in (await asyncio.wait_for(process.stdout.readline(), 90)).decode():
            pass
        # the storm is over and the overview still answers, with the storm's numbers
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            async with client.get(link) as r:
                assert r.status == 200
            base = link.split("/?token=")[0]
            async with client.get(f"{base}/api/tally") as r:
                tally = await r.json()
        assert tally["person_times"] > 100 and tally["streets"]["served"] > 0
    finally:
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()[-2000:]
    assert "agree: yes" in out.decode()
    assert not list(tmp_path.glob("*.db")), "the demo's database is thrown away"
