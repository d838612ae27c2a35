"""The Mini App for a dispatcher (reports with their photos, a task posted by choosing a
street), `/app` and the menu button, and the photo cache (SPEC §16)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from snowbot.settings.config_file import parse_config
from snowbot.settings.errors import ConfigError
from snowbot.tools.standin import SimUser
from tests.harness import CADRE, DISPATCH, STATION, no_errors, said
from tests.miniapp_harness import (
    act,
    app_session,
    done_with_photo,
    init_data,
    served_app,
    view,
)
from tests.overview_harness import make_dispatcher, session
from web.miniapp.photos import PhotoCache

VISITOR = SimUser(71, "Visitor Brown", "en")
NEIGHBOUR = SimUser(72, "Neighbour Green", "en")


async def test_a_dispatcher_sees_reports_with_photos_and_decides_them(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with served_app(config, city_csv) as s:
        api = s.api
        await make_dispatcher(api)
        await api.send_photo(VISITOR, "/report Snow wall at the gate")
        await api.locate(VISITOR, *STATION)
        await api.ask(NEIGHBOUR, "/report")
        await api.locate(NEIGHBOUR, 50.2001, 127.5001)  # River Road, South: a second report
        photo = next(iter(api.files.values()))
        async with app_session(init_data(DISPATCH, api.token)) as client:
            _, seen = await view(client, s.base)
            assert seen["role"] == "dispatcher"
            reports = {r["id"]: r for r in seen["dispatcher"]["reports"]}
            assert set(reports) == {1, 2} and reports[1]["photo"] and not reports[2]["photo"]
            assert reports[1]["text"] == "Snow wall at the gate"
            for _ in range(2):  # fetched from Telegram once, then from the disk
                async with client.get(s.url("/app/api/photo/report/1")) as r:
                    assert r.status == 200 and await r.read() == photo
            assert api.downloads == 1 and api.calls["getFile"] == 1
            async with client.get(s.url("/app/api/photo/report/2")) as r:
                assert r.status == 404
            async with app_session(init_data(CADRE, api.token)) as cadre:
                await api.locate(CADRE, *STATION)
                async with cadre.get(s.url("/app/api/photo/report/1")) as r:
                    assert r.status == 404  # a cadre never sees residents' photos
            status, made = await act(client, s.base, do="make_task", id=1)
            assert status == 200 and made["ok"], made
            status, dismissed = await act(client, s.base, do="dismiss", id=2)
            assert status == 200 and dismissed["ok"], dismissed
            assert dismissed["text"] == said("residents.dismissed_ok", ref="#R2")
            _, seen = await view(client, s.base)
            assert seen["dispatcher"]["reports"] == []
            # a decided report's photo is no longer shown; nor twice decided
            async with client.get(s.url("/app/api/photo/report/1")) as r:
                assert r.status == 404
            assert not (await act(client, s.base, do="dismiss", id=2))[1]["ok"]
        tasks = await s.running.service.tasks_for(await s.running.service.person(DISPATCH.id))  # type: ignore[arg-type]
        assert [t.task.street for t in tasks] == ["Station Road"]
        no_errors(caplog, api)


async def test_a_dispatcher_posts_a_task_by_choosing_a_street(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with served_app(config, city_csv) as s:
        api = s.api
        await make_dispatcher(api)
        async with app_session(init_data(DISPATCH, api.token)) as client:
            _, seen = await view(client, s.base)
            unserved = {st["name"]: st for st in seen["dispatcher"]["unserved"]}
            assert seen["dispatcher"]["unserved_total"] == 7
            street = unserved["School Lane"]
            before = api.count(DISPATCH.id)
            status, posted = await act(client, s.base, do="post", street=street["id"], needed=3)
            assert status == 200 and posted["ok"], posted
            task_id = posted["task"]
            _, seen = await view(client, s.base)
            assert "School Lane" not in {st["name"] for st in seen["dispatcher"]["unserved"]}
        # the chat hears of it as of a /newtask: the task, with its Accept button
        shown = await api.reply(DISPATCH.id, before)
        assert f"#{task_id}" in shown.text and "School Lane" in shown.text
        assert shown.button("Accept")
        task = await s.running.service.task(task_id)
        assert task is not None and (task.street, task.needed) == ("School Lane", 3)
        no_errors(caplog, api)


async def test_app_command_and_menu_button_with_an_https_address(
    config: Config, city_csv: Path
) -> None:
    async with served_app(config, city_csv, public_url="https://snow.example.gov") as s:
        menu = s.api.menu_button
        assert menu is not None and menu["type"] == "web_app"
        assert menu["web_app"]["url"] == "https://snow.example.gov/app"
        answer = await s.api.ask(CADRE, "/app")
        assert answer.text == said("app.here")
        assert answer.buttons[0]["web_app"] == {"url": "https://snow.example.gov/app"}
        help_text = (await s.api.ask(CADRE, "/help")).text
        assert "/app" in help_text
        assert any(c["command"] == "app" for c in s.api.commands["zh"])


async def test_app_command_without_an_https_address_says_what_to_set(
    config: Config, city_csv: Path
) -> None:
    async with served_app(config, city_csv, public_url="http://snow.example.gov") as s:
        assert s.api.menu_button is None
        answer = await s.api.ask(CADRE, "/app")
        assert answer.text == said("app.off") and "public_url" in answer.text
        assert not answer.reply_markup


class Photos:
    """Telegram's side of the cache: counts what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def photo(self, file_id: str) -> bytes | None:
        self.asked.append(file_id)
        return None if file_id == "gone" else file_id.encode() * 1000


async def test_the_photo_cache_keeps_the_most_recently_shown_within_its_limit(
    tmp_path: Path,
) -> None:
    source = Photos()
    cache = PhotoCache(source, tmp_path / "photos", limit=2500)  # two photos of 1000 bytes
    assert await cache.get("a") == b"a" * 1000
    assert await cache.get("b") == b"b" * 1000
    files = sorted((tmp_path / "photos").iterdir())
    os.utime(files[0], (1, 1))
    os.utime(files[1], (2, 2))
    assert await cache.get("a") == b"a" * 1000  # from the disk, and now the newest
    assert await cache.get("c") == b"c" * 1000  # b is evicted: the least recently shown
    assert source.asked == ["a", "b", "c"]
    assert await cache.get("b") == b"b" * 1000
    assert source.asked == ["a", "b", "c", "b"]
    assert sum(p.stat().st_size for p in (tmp_path / "photos").iterdir()) <= 2500
    assert all(re.fullmatch(r"[0-9a-f]{64}", p.name) for p in (tmp_path / "photos").iterdir())
    assert await cache.get("gone") is None


@pytest.mark.both_engines
async def test_proof_photos_of_done_are_shown_to_dispatchers_only(
    config: Config, city_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with served_app(config, city_csv) as s:
        api = s.api
        proof = await done_with_photo(s)
        async with app_session(init_data(DISPATCH, api.token)) as client:
            _, seen = await view(client, s.base)
            assert [t["id"] for t in seen["dispatcher"]["done"]] == [1]
            async with client.get(s.url("/app/api/photo/task/1")) as r:
                assert r.status == 200 and await r.read() == proof
            async with client.get(s.url("/app/api/photo/task/2")) as r:
                assert r.status == 404
        async with app_session(init_data(CADRE, api.token)) as client:
            _, seen = await view(client, s.base)
            assert "dispatcher" not in seen
            async with client.get(s.url("/app/api/photo/task/1")) as r:
                assert r.status == 404  # the cadre who took it still sees no photo here
        # the overview's street details: behind its token, like every other path
        street = (await s.running.service.task(1)).street_id  # type: ignore[union-attr]
        for path in (f"/api/street/{street}/proofs", "/api/photo/task/1"):
            async with session(None) as client, client.get(s.url(path)) as r:
                assert r.status == 401
        async with session() as client:
            async with client.get(s.url(f"/api/street/{street}/proofs")) as r:
                assert [p["task"] for p in await r.json()] == [1]
            async with client.get(s.url("/api/photo/task/1")) as r:
                assert r.status == 200 and await r.read() == proof
            async with client.get(s.url(f"/api/street/{street + 1}/proofs")) as r:
                assert await r.json() == []
        no_errors(caplog, api)


def test_photo_cache_mb_is_a_whole_number_of_megabytes(tmp_path: Path) -> None:
    assert parse_config({}, base_dir=tmp_path).dashboard.photo_cache_mb == 200
    kept = parse_config({"dashboard": {"photo_cache_mb": 0}}, base_dir=tmp_path)
    assert kept.dashboard.photo_cache_mb == 0
    for bad in (-1, "200", 1.5, True, 2_000_000):
        with pytest.raises(ConfigError, match=r"dashboard\.photo_cache_mb"):
            parse_config({"dashboard": {"photo_cache_mb": bad}}, base_dir=tmp_path)
