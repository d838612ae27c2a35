"""The Mini App in a real browser (Debian's chromium, driven by Playwright), opened as
Telegram opens it: `/app#tgWebAppData=…` with initData signed by the bot's token, on a
360-px phone; as a cadre, a dispatcher and a coordinator. No request leaves 127.0.0.1.

Skipped with one line where Chromium is missing, unless SNOWBOT_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import SimUser
from tests.harness import CADRE, COORD, DISPATCH, STATION, run_cli, said
from tests.miniapp_harness import done_with_photo, init_data, served_app
from tests.overview_harness import Served, make_dispatcher
from tests.test_overview_browser import CHROMIUM, _browser_or_skip

VISITOR = SimUser(71, "Visitor Brown", "en")
SCREENSHOT = os.environ.get("SNOWBOT_APP_SCREENSHOT")  # keep the cadre's screen here too
PHONE: Any = {"width": 360, "height": 640}  # Playwright's ViewportSize
# every button a thumb can hit in gloves, and nothing wider than the phone
TARGETS = """() => {
  const bad = [];
  if (document.documentElement.scrollWidth > innerWidth) { bad.push('scrolls sideways'); }
  for (const b of document.querySelectorAll('button')) {
    const r = b.getBoundingClientRect();
    if (r.width && (r.height < 44 || r.width < 44)) { bad.push(b.textContent + ' small'); }
    if (r.right > innerWidth + 0.5) { bad.push(b.textContent + ' outside'); }
  }
  return bad;
}"""


def hosts(requested: list[str]) -> set[str | None]:
    """Where the requests went (a photo's blob: address is this page's own)."""
    return {urlsplit(url.removeprefix("blob:")).hostname for url in requested}


async def opened(s: Served, browser: Any, user: SimUser, requested: list[str]) -> Any:
    page = await browser.new_page(viewport=PHONE)
    page.on("request", lambda request: requested.append(request.url))
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.problems = problems
    data = init_data(user, s.api.token)
    await page.goto(f"{s.base}/app#tgWebAppData={quote(data, safe='')}&tgWebAppVersion=8.0")
    await page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    return page


async def tally(tmp_path: Path, config: Config) -> dict[str, Any]:
    (tmp_path / "config.toml").write_text(f'[storage]\ndatabase = "{config.address}"\n', "utf-8")
    cli = await asyncio.to_thread(run_cli, tmp_path, "tally", "--json")
    assert cli.returncode == 0, cli.stderr
    found: dict[str, Any] = json.loads(cli.stdout)
    return found


@pytest.mark.timeout(120)
async def test_a_cadre_accepts_in_the_app(config: Config, city_csv: Path, tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    requested: list[str] = []
    async with served_app(config, city_csv) as s, async_playwright() as pw:
        api = s.api
        await make_dispatcher(api)
        announcement = await api.ask(DISPATCH, "/newtask Station Road 2")
        await api.locate(CADRE, *STATION)
        browser = await pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await opened(s, browser, CADRE, requested)
            card = page.locator("#task-1")
            assert "Station Road" in await card.inner_text()
            assert "0/2" in await card.locator(".places").inner_text()
            assert await page.locator("#map .leaflet-interactive").count() >= 2
            assert await page.evaluate(TARGETS) == []
            assert (await tally(tmp_path, config))["tasks"]["in_progress"] == 0
            await card.locator("button.accept").click()
            await page.wait_for_function(
                "() => document.querySelector('#task-1 .places').textContent.includes('1/2')",
                timeout=10_000,
            )
            toast = await page.locator("#toast").inner_text()
            assert "#1" in toast
            assert await card.locator("button.accept").count() == 0  # the shift is placed
            assert await card.locator("button.release").count() == 1
            assert await card.locator("button.done").count() == 1
            await page.screenshot(path=str(tmp_path / "app-cadre.png"), full_page=True)
            if SCREENSHOT:
                await page.screenshot(path=SCREENSHOT, full_page=True)
            after = await tally(tmp_path, config)
            assert after["tasks"]["in_progress"] == 1 and after["assigned"] == 1
            edits = await api.wait_for(lambda: announcement.edits)
            assert "1/2" in edits[-1]
            # places shown as they change: a second cadre accepts in the chat
            await api.locate(VISITOR, *STATION)
            await api.ask(VISITOR, "/accept 1")
            await page.wait_for_function(
                "() => document.querySelector('#task-1 .places').textContent.includes('2/2')",
                timeout=10_000,
            )
            assert page.problems == []
        finally:
            await browser.close()
    assert hosts(requested) == {"127.0.0.1"}


@pytest.mark.timeout(120)
async def test_a_dispatcher_decides_a_report_and_posts_a_task(
    config: Config, city_csv: Path
) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    requested: list[str] = []
    async with served_app(config, city_csv) as s, async_playwright() as pw:
        api = s.api
        await make_dispatcher(api)
        await api.send_photo(VISITOR, "/report Snow wall at the gate")
        await api.locate(VISITOR, *STATION)
        browser = await pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await opened(s, browser, DISPATCH, requested)
            report = page.locator("#report-1")
            assert "Snow wall at the gate" in await report.inner_text()
            await page.wait_for_function(
                "() => document.querySelector('#report-1 img.photo')?.naturalWidth === 8",
                timeout=10_000,
            )
            assert await page.evaluate(TARGETS) == []
            await report.get_by_role("button", name="Make task").click()
            await page.wait_for_selector("#report-1", state="detached", timeout=10_000)
            assert (
                said("residents.tasked_ok", ref="#R1", id=1)
                in await page.locator("#toast").inner_text()
            )
            # a street chosen from the list; the map's dots open the same sheet
            await page.fill("#street-filter", "School")
            await page.locator("#street-list button.post-street").first.click()
            await page.fill("#needed", "3")
            await page.click("#post")
            await page.wait_for_function(
                "() => document.getElementById('toast').textContent.includes('#2')",
                timeout=10_000,
            )
            assert page.problems == []
        finally:
            await browser.close()
        task = await s.running.service.task(2)
        assert task is not None and (task.street, task.needed) == ("School Lane", 3)
    assert hosts(requested) == {"127.0.0.1"}


@pytest.mark.timeout(120)
async def test_a_coordinator_opens_the_overview_from_the_app(
    config: Config, city_csv: Path
) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    requested: list[str] = []
    async with served_app(config, city_csv) as s, async_playwright() as pw:
        await done_with_photo(s)
        station = next(
            st for st in s.running.service.directory.streets if st.name == "Station Road"
        )
        browser = await pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await opened(s, browser, COORD, requested)
            await page.click("#open-overview")
            await page.wait_for_function(
                "() => document.getElementById('person-times')?.textContent === '1'",
                timeout=10_000,
            )
            assert urlsplit(page.url).path == "/" and "token" not in page.url
            assert all("token=" not in url for url in requested)
            # a click on the street opens its details: the proof photo of its /done
            await page.wait_for_function(
                f"() => window.snowbotOverview.streetState({station.id}) === 'served'",
                timeout=10_000,
            )
            x, y = await page.evaluate(f"window.snowbotOverview.pixel({station.id})")
            await page.mouse.click(x, y)
            await page.wait_for_function(
                "() => document.querySelector('.leaflet-popup img.proof')?.naturalWidth === 8",
                timeout=10_000,
            )
            assert page.problems == []
        finally:
            await browser.close()
    assert hosts(requested) == {"127.0.0.1"}


@pytest.mark.timeout(60)
async def test_without_initdata_the_page_says_to_open_it_from_telegram(
    config: Config, city_csv: Path
) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    async with served_app(config, city_csv) as s, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await browser.new_page(viewport=PHONE)
            await page.goto(f"{s.base}/app")
            await page.wait_for_selector("body[data-ready='0']", timeout=10_000)
            assert "Telegram" in await page.locator("#note").inner_text()
            forged = init_data(CADRE, "999:not-this-bot")
            await page.goto(f"{s.base}/app#tgWebAppData={quote(forged, safe='')}")
            await page.reload()
            await page.wait_for_selector("body[data-ready='0']", timeout=10_000)
            assert await page.locator("#tasks").is_hidden()
        finally:
            await browser.close()
