"""The overview in a real browser (Debian's chromium, driven by Playwright): the page of a
running bot follows the storm without a reload, and never asks anything of the internet.

Skipped with one line where Chromium is missing, unless SNOWBOT_REQUIRE_BROWSER=1 (CI):
then it fails instead, so CI cannot pass without having looked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from snowbot.config import Config
from tests.harness import CADRE, DISPATCH, STATION
from tests.overview_harness import TOKEN, make_dispatcher, served

CHROMIUM = os.environ.get("SNOWBOT_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("SNOWBOT_REQUIRE_BROWSER") == "1"
# where to keep the screenshot besides the test's folder (docs/overview.png is made so)
SCREENSHOT = os.environ.get("SNOWBOT_SCREENSHOT")
COLOURS = {"unserved": "#ff4d4f", "open": "#ffb020", "in_progress": "#3b8bff", "served": "#34d399"}


def _browser_or_skip() -> None:
    if shutil.which(CHROMIUM) is None:
        if REQUIRED:
            pytest.fail(
                f"SNOWBOT_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)"
            )
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium runs this test)")


def _text(page_id: str) -> str:
    return f"document.getElementById('{page_id}').textContent"


@pytest.mark.timeout(120)
async def test_the_page_follows_the_storm_live_and_offline(
    config: Config, city_csv: Path, tmp_path: Path
) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    async with served(config, city_csv) as s, async_playwright() as pw:
        api = s.api
        await make_dispatcher(api)
        station = next(
            st for st in s.running.service.directory.streets if st.name == "Station Road"
        )
        browser = await pw.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(viewport={"width": 1920, "height": 1080})
            page = await context.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type == "error" else None,
            )
            await page.goto(f"{s.base}/?token={TOKEN}")
            await page.wait_for_function(f"() => {_text('person-times')} === '0'", timeout=10_000)
            await page.wait_for_function(
                f"() => window.snowbotOverview.streetState({station.id}) === 'unserved'",
                timeout=10_000,
            )
            assert await page.evaluate(_text("on-duty")) == "0"
            assert await page.evaluate(_text("streets-unserved")) == "7"
            # the token left the address bar; the page is the one loaded, never reloaded
            assert "token" not in page.url
            await page.evaluate("window.loadedOnce = true")

            await api.locate(CADRE, *STATION)
            await page.wait_for_function(f"() => {_text('on-duty')} === '1'", timeout=2_000)
            assert await page.evaluate(_text("person-times")) == "1"
            await page.wait_for_function(
                "() => window.snowbotOverview.positions() === 1", timeout=2_000
            )

            await api.ask(DISPATCH, "/newtask Station Road 2")
            await page.wait_for_function(f"() => {_text('tasks-open')} === '1'", timeout=2_000)
            await page.wait_for_function(
                f"() => window.snowbotOverview.streetColour({station.id}) === '{COLOURS['open']}'",
                timeout=2_000,
            )
            await api.ask(CADRE, "/accept 1")
            await api.ask(CADRE, "/done 1")
            await page.wait_for_function(f"() => {_text('streets-served')} === '1'", timeout=2_000)
            green = COLOURS["served"]
            await page.wait_for_function(
                f"() => window.snowbotOverview.streetColour({station.id}) === '{green}'",
                timeout=2_000,
            )
            assert await page.evaluate(_text("tasks-done")) == "1"
            assert await page.evaluate("window.loadedOnce") is True
            # one screen: nothing to scroll at 1920×1080
            size = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            assert size == [1920, 1080]
            await page.screenshot(path=str(tmp_path / "overview.png"))
            if SCREENSHOT:
                await page.screenshot(path=SCREENSHOT)
            await page.set_viewport_size({"width": 1366, "height": 768})
            await page.wait_for_timeout(300)
            size = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            assert size == [1366, 768]
            await page.screenshot(path=str(tmp_path / "overview-1366.png"))
            # the bookmark, without the token: the browser's cookie opens it
            again = await context.new_page()
            again.on("request", lambda request: requested.append(request.url))
            await again.goto(f"{s.base}/?lang=en")
            await again.wait_for_function(
                f"() => {_text('streets-served')} === '1'", timeout=10_000
            )
            assert "one-screen overview" in await again.title()
        finally:
            await browser.close()
    assert (tmp_path / "overview.png").stat().st_size > 10_000
    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, hosts
    assert not problems, problems
