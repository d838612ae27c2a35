"""Over random storms (hypothesis): the units' person-times and on duty plus the no-unit
turnout make the total, in the tally, the CSV export and the chat's /units; and each unit's
turnout is what a plain model of "the unit at check-in" says, however people change unit,
check out, come back within the rejoin window or lead teams. Also: arbitrary unit names
are kept or refused, never a crash."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.units import decode, encode
from snowbot.domain.model import CheckInKind, Unit
from snowbot.domain.refusals import Refused
from snowbot.domain.units import MAX_UNIT_NAME, MatchKind, NameProblem, clean_unit_name, match_unit
from snowbot.service import Snowbot
from snowbot.settings.config_file import parse_config
from snowbot.text.render_units import render_units
from snowbot.text.texts import catalog
from tests.harness import FakeClock, opened_bot, person, recount
from tests.test_units import UNIT_CITY

UNITS = ("Roads Bureau", "Water Company", "Parks Office")
# spots beside streets of both districts (Station Road, Market Street North, River Road)
SPOTS = ((50.2401, 127.5001), (50.2451, 127.5001), (50.2001, 127.5001))
PEOPLE = 4

STEP = st.one_of(
    st.tuples(st.just("join"), st.integers(0, PEOPLE - 1), st.integers(0, len(UNITS) - 1)),
    st.tuples(st.just("checkin"), st.integers(0, PEOPLE - 1), st.integers(0, len(SPOTS) - 1)),
    st.tuples(st.just("team"), st.integers(0, PEOPLE - 1), st.integers(2, 25)),
    st.tuples(st.just("checkout"), st.integers(0, PEOPLE - 1), st.just(0)),
    # up to 3 h: inside and past the 30-minute rejoin window
    st.tuples(
        st.just("wait"), st.just(0), st.one_of(st.integers(1, 10_800), st.just(1801), st.just(3601))
    ),
)
STORMS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@STORMS
@given(st.lists(STEP, min_size=1, max_size=40))
def test_units_and_no_unit_make_the_total_everywhere(steps: list[tuple[str, int, int]]) -> None:
    asyncio.run(_storm(steps))


async def _storm(steps: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        city = folder / "city.csv"
        city.write_text(UNIT_CITY, "utf-8")
        base = parse_config({"access": {"coordinators": [1], "enrolment": "open"}}, base_dir=folder)
        config = replace(base, database=folder / "s.db")
        clock = FakeClock()
        async with opened_bot(config, clock, city) as bot:
            await bot.add_unit(await person(bot, 1), UNITS[2])  # a unit with no street
            expected = await _play(bot, clock, steps)
            await _check(bot, expected, config.database)


async def _play(bot: Snowbot, clock: FakeClock, steps: list[tuple[str, int, int]]) -> Counter[str]:
    """Play the storm; what each unit ("" for none) should have counted, by a plain model:
    a new shift counts its headcount for its cadre's unit of that moment."""
    unit_now: dict[int, str] = {}
    expected: Counter[str] = Counter()
    for kind, who, value in steps:
        cadre = await person(bot, 10 + who)
        try:
            if kind == "join":
                unit_now[cadre.id] = (await bot.join_unit_named(cadre, UNITS[value])).name
            elif kind in ("checkin", "team"):
                if kind == "team":
                    await bot.ask_check_in(cadre, value)
                done = await bot.check_in(cadre, *SPOTS[value if kind == "checkin" else 0])
                if done.kind == CheckInKind.OPENED:
                    assert done.shift is not None
                    expected[unit_now.get(cadre.id, "")] += done.shift.headcount
            elif kind == "checkout":
                await bot.check_out(cadre)
            else:
                clock.advance(value)
        except Refused:
            pass  # off duty already, or too many check-ins this hour: nothing changed
    return expected


async def _check(bot: Snowbot, expected: Counter[str], database: Path) -> None:
    tally = await bot.tally()
    assert tally.no_unit is not None
    counted = {u.unit: u.person_times for u in tally.units}
    counted[""] = tally.no_unit.person_times
    assert +Counter(counted) == +expected
    # the tally: units plus no unit make the totals, which a raw recount confirms
    raw = recount(database)
    assert sum(counted.values()) == tally.person_times == raw["person_times"]
    on_duty = sum(u.on_duty for u in tally.units) + tally.no_unit.on_duty
    assert on_duty == tally.on_duty == raw["on_duty"]
    as_json = tally.as_json()
    assert (
        sum(u["person_times"] for u in as_json["units"]) + as_json["no_unit"]["person_times"]
        == (as_json["person_times"])
    )

    # the CSV: each row's unit is the shift's; summed per unit, the same numbers
    rows = list(csv.DictReader(io.StringIO((await bot.export())["shifts.csv"].decode("utf-8-sig"))))
    by_unit: Counter[str] = Counter()
    duty: Counter[str] = Counter()
    people: dict[str, set[str]] = {}
    for row in rows:
        by_unit[row["unit"]] += int(row["headcount"])
        duty[row["unit"]] += int(row["headcount"]) if not row["ended_at"] else 0
        people.setdefault(row["unit"], set()).add(row["user_id"])
    assert +by_unit == +Counter(counted)
    for u in [*tally.units, tally.no_unit]:
        assert (duty[u.unit], len(people.get(u.unit, ()))) == (u.on_duty, u.people), u

    # the chat: /units, every page, in English and Chinese
    for lang, line in (
        ("en", r"^\d+\. (.+) — (\d+) person-times"),
        ("zh", r"^\d+\. (.+) — (\d+) 人次"),
    ):
        t = catalog(lang)
        shown = render_units(t, tally, 0)
        texts = [render_units(t, tally, page).text for page in range(shown.pages)]
        said = {m[0]: int(m[1]) for text in texts for m in re.findall(line, text, re.M)}
        total = sum(said.values())
        none = re.search(r"(?:No unit|无单位)：?:? ?(\d+)", texts[0])
        assert none is not None
        assert total + int(none.group(1)) == tally.person_times
        assert said == {u.unit: u.person_times for u in tally.units}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=150))
def test_unit_names_are_kept_or_refused(text: str) -> None:
    cleaned = clean_unit_name(text)
    if isinstance(cleaned, NameProblem):
        return
    assert cleaned and len(cleaned) <= MAX_UNIT_NAME and cleaned == cleaned.strip()
    assert clean_unit_name(cleaned) == cleaned  # keeping it twice changes nothing
    # what was typed finds the unit it names
    assert match_unit(text, [Unit(1, cleaned)], 5).kind == MatchKind.FOUND


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.none(), st.from_regex(r"v1\|[untad]\|\d{1,12}")))
def test_unit_buttons_decode_or_are_refused(data: str | None) -> None:
    press = decode(data)
    if press is not None:
        assert data is not None and len(data.encode()) <= 64
        assert press.action in "unt" and data.startswith(f"v1|{press.action}|")
        assert decode(encode(press.action, press.number)) == press
