"""The demo's seed storm: six days, about 56,000 person-times, in waves the bot takes in
batches (its shape: each day's share, each district's weight)."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from snowbot.domain.model import TaskStatus
from snowbot.tools.demo.cast import (
    SEED_DAYS,
    SEED_PERSON_TIMES,
    Cast,
    SimClock,
    SteppedBot,
    Transcript,
)
from snowbot.tools.demo.storms import near, post_tasks
from snowbot.tools.standin import BotApiStandIn, SimUser

# The seed storm's shape: each day's share of the turnout (a rise, the peak on day 3, a
# tail), and how busy each district is against the others (in the gazetteer's order)
SEED_DAY_SHARES = (0.07, 0.15, 0.27, 0.24, 0.16, 0.11)
SEED_DISTRICT_WEIGHTS = (1.7, 1.3, 1.0, 0.8, 0.65, 0.5)
SEED_TURNOUT = SEED_PERSON_TIMES + 480  # lands in the 5.6万余 the city reported
SEED_POOL = 1_500  # the people who turn out, day after day
SEED_UNIT_MEMBERS = 400  # of them, cadres of a unit (units differ as districts do)


def seed_days() -> list[int]:
    """Each day's person-times; they add up to SEED_TURNOUT."""
    days = [round(SEED_TURNOUT * share) for share in SEED_DAY_SHARES]
    days[SEED_DAYS // 2 - 1] += SEED_TURNOUT - sum(days)  # the rounding, on the peak
    return days


async def seed_storm(
    api: BotApiStandIn, running: SteppedBot, clock: SimClock, cast: Cast, say: Transcript
) -> int:
    """Six days, 56,000-odd person-times, in waves the bot takes in batches: mostly teams
    (a unit turns out as one), so the replay takes minutes, not an afternoon."""
    bot = running.service
    rng = random.Random(56_000)
    before = api.updates_pushed
    pool = [SimUser(100_000 + i, f"干部{i}", "zh") for i in range(SEED_POOL)]
    start = datetime.fromtimestamp(clock(), bot.config.city.timezone)
    districts = sorted(bot.directory.districts)
    weights = dict(zip(districts, SEED_DISTRICT_WEIGHTS, strict=False))
    streets = bot.directory.streets
    street_weights = [weights.get(street.district, 0.5) for street in streets]
    say.progress(
        f"Seed-scale storm: {SEED_DAYS} days, {SEED_TURNOUT:,} person-times, "
        f"{len(districts)} districts"
    )
    units = [u.name for u in await bot.units()]
    if units:  # some units send many, some few
        unit_weights = [1.0 / (1 + n % 7) for n in range(len(units))]
        members = pool[:SEED_UNIT_MEMBERS]
        chosen = rng.choices(units, unit_weights, k=len(members))
        await _wave(api, [(u, f"/unit {name}") for u, name in zip(members, chosen, strict=True)])
    last = await bot.tally()
    for day, per_day in enumerate(seed_days()):
        day_started = time.perf_counter()
        clock.set(start + timedelta(days=day))
        tasks = await post_tasks(api, bot, cast, rng, per_district=2 + day % 3, say=None)
        clock.advance(minutes=30)
        # the day's crowd: team leaders and some on their own, until the day's turnout
        crowd: list[tuple[SimUser, int]] = []
        total = 0
        for user in rng.sample(pool, len(pool)):
            if total >= per_day:
                break
            team = rng.randint(12, 30) if rng.random() < 0.9 else 1
            team = min(team, per_day - total)
            crowd.append((user, team))
            total += team
        await _wave(api, [(u, f"/checkin {n}") for u, n in crowd if n > 1])
        spots = rng.choices(streets, street_weights, k=len(crowd))
        await _wave_locations(
            api, rng, [(u, s.lat, s.lon) for (u, _), s in zip(crowd, spots, strict=True)]
        )
        clock.advance(hours=1)
        joiners = [u for u, _ in crowd]
        await _wave(
            api, [(rng.choice(joiners), f"/accept {t}") for t, _ in tasks for _ in range(3)]
        )
        clock.advance(hours=4)
        await _wave(api, [(cast.dispatchers[d], f"/done {t}") for t, d in tasks])
        clock.advance(hours=2)  # 14:00, before the 8-hour welfare limit
        await _wave(api, [(u, "/checkout") for u, _ in crowd])
        clock.set(start + timedelta(days=day, hours=13, minutes=30))  # 20:00: the day's summary
        swept = await running.tick()
        now = await bot.tally()
        date = (start + timedelta(days=day)).date()
        done_today = now.tasks[TaskStatus.DONE] - last.tasks[TaskStatus.DONE]
        say.progress(
            f"Day {day + 1} ({date}): {now.person_times - last.person_times:,} person-times, "
            f"{len(crowd):,} check-ins, {done_today} tasks done; "
            f"total {now.person_times:,}; summary to HQ: {swept.daily}; "
            f"{time.perf_counter() - day_started:.1f} s"
        )
        last = now
    return api.updates_pushed - before


async def _wave(api: BotApiStandIn, messages: list[tuple[SimUser, str]]) -> None:
    """Send many messages at once and wait until each sender has had an answer."""
    expected = _expect(api, [user for user, _ in messages])
    for user, text in messages:
        await api.say(user, text)
    await _answered(api, expected)


async def _wave_locations(
    api: BotApiStandIn, rng: random.Random, spots: list[tuple[SimUser, float, float]]
) -> None:
    """Each user shares a location near the given point; wait until each is answered."""
    expected = _expect(api, [user for user, _, _ in spots])
    for user, lat, lon in spots:
        await api.share_location(user, *near(rng, lat, lon))
    await _answered(api, expected)


def _expect(api: BotApiStandIn, users: list[SimUser]) -> dict[int, int]:
    """chat id -> how many messages it must have once every user is answered."""
    expected: dict[int, int] = {}
    for user in users:
        expected[user.id] = expected.get(user.id, api.count(user.id)) + 1
    return expected


async def _answered(api: BotApiStandIn, expected: dict[int, int]) -> None:
    pending = list(expected.items())

    def done() -> bool:
        nonlocal pending
        pending = [(chat, n) for chat, n in pending if api.count(chat) < n]
        return not pending

    await api.wait_for(done, timeout=600)
