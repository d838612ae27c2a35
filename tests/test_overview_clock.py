"""The overview's "更新于" is the city's time, whatever zone the wall-screen PC is set to
(Chromium told it is in Los Angeles shows Shanghai's clock for a Shanghai city)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from tests.overview_harness import TOKEN, served
from tests.test_overview_browser import CHROMIUM, _browser_or_skip, _text


@pytest.mark.timeout(60)
async def test_the_updated_time_is_the_citys(config: Config, city_csv: Path) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    async with served(config, city_csv) as s, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(timezone_id="America/Los_Angeles")
            page = await context.new_page()
            await page.goto(f"{s.base}/?token={TOKEN}")
            await page.wait_for_function(f"() => /\\d:\\d\\d/.test({_text('clock')})")
            shown = await page.evaluate(_text("clock"))
            here = await page.evaluate("new Date().getHours()")  # the browser's own zone
        finally:
            await browser.close()
    city_now = datetime.now(config.city.timezone)
    hours = {f"{(city_now + timedelta(minutes=d)).hour:02d}:" for d in (-1, 0, 1)}
    assert any(h in shown for h in hours), (shown, hours)
    assert city_now.hour != here  # the two zones differ: the test tells them apart
