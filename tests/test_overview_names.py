"""Names from the city's files are text on the overview, never HTML (issue 28, item 7): a
gazetteer whose district and unit names are markup shows them literally, in real Chromium."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from snowbot.settings.config import Config
from tests.overview_harness import TOKEN, served
from tests.test_overview_browser import CHROMIUM, _browser_or_skip

DISTRICT = '<img src=x onerror="window.pwned=1"><a href="https://evil.example/">North</a>'
UNIT = '<b id="bold">Bureau</b><img src=y>'

# every element the names would make if they were HTML, anywhere on the page
MADE = (
    'document.querySelectorAll(\'img[src="x"], img[src="y"], a[href^="https://evil"], '
    "#bold').length"
)


@pytest.mark.timeout(120)
async def test_district_and_unit_names_are_shown_as_text(config: Config, tmp_path: Path) -> None:
    _browser_or_skip()
    from playwright.async_api import async_playwright

    city = tmp_path / "markup.csv"
    with city.open("w", encoding="utf-8", newline="") as out:
        rows = csv.writer(out)
        rows.writerow(["district", "street", "lat", "lon", "unit"])
        rows.writerow([DISTRICT, "Station Road", "50.245", "127.49", UNIT])
        rows.writerow([DISTRICT, "River Street", "50.250", "127.50", UNIT])
        rows.writerow(["South", "Harbour Lane", "50.230", "127.48", ""])
    async with served(config, city) as s, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await browser.new_page(viewport={"width": 1920, "height": 1080})
            await page.goto(f"{s.base}/?token={TOKEN}")
            # the map's labels, once the streets and the tally are in
            await page.wait_for_function(
                "() => [...document.querySelectorAll('.district-label')]"
                f".some(l => l.textContent.startsWith({DISTRICT!r} + ' · '))",
                timeout=20_000,
            )
            labels = await page.evaluate(
                "[...document.querySelectorAll('.district-label')].map(l => l.textContent)"
            )
            assert any(label.startswith(DISTRICT) for label in labels), labels
            table = await page.evaluate(
                "[...document.querySelectorAll('#districts td')].map(td => td.textContent)"
            )
            assert DISTRICT in table
            options = await page.evaluate(
                "[...document.getElementById('unit-filter').options].map(o => o.textContent)"
            )
            assert UNIT in options
            # the turnout chart's tooltip names the districts too
            await page.evaluate(
                "echarts.getInstanceByDom(document.getElementById('turnout'))"
                ".dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0})"
            )
            await page.wait_for_function(
                "() => [...document.querySelectorAll('#turnout div')]"
                f".some(d => d.textContent.includes({DISTRICT!r}))",
                timeout=5_000,
            )
            assert await page.evaluate(MADE) == 0
            assert await page.evaluate("window.pwned === undefined") is True
        finally:
            await browser.close()
