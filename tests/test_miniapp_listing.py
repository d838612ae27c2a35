"""The Mini App's task list measures only around the cadre, yet lists what /tasks lists
first, in the same order (urgent first, then nearest)."""

from __future__ import annotations

import random

from snowbot.domain.geo import StreetIndex
from snowbot.service import Snowbot
from snowbot.service.miniapp import nearest_tasks
from snowbot.tools.bench.nearest import random_city
from tests.harness import person


def test_nearest_among_agrees_with_measuring_every_street() -> None:
    streets, lines = random_city(4000, 7)
    index = StreetIndex(streets, {k: tuple(tuple(p) for p in v) for k, v in lines.items()})
    rng = random.Random(3)
    for round_ in range(30):
        wanted = {s.id for s in rng.sample(streets, rng.choice([1, 5, 40, 400]))}
        here = rng.choice(streets)
        lat, lon = here.lat + rng.uniform(-0.02, 0.02), here.lon + rng.uniform(-0.02, 0.02)
        k = rng.choice([1, 3, 30])
        every = sorted((index.distance_km(s, lat, lon, exact=False) or 0.0, s) for s in wanted)
        found = index.nearest_among(lat, lon, wanted, k)
        assert [s for s, _ in found[:k]] == [s for _, s in every[:k]], round_
        assert all(abs(km - dict(found)[s]) < 1e-9 for km, s in every[:k])
    far = index.nearest_among(80.0, 10.0, {streets[0].id, streets[1].id}, 1)  # off the map
    assert {s for s, _ in far} == {streets[0].id, streets[1].id}
    assert index.nearest_among(50.0, 127.0, set(), 5) == []


async def test_the_app_lists_what_tasks_lists_first(bot: Snowbot) -> None:
    coordinator = await person(bot, 1)
    ids = [str(s.id) for s in bot.directory.streets]
    for k, street in enumerate(ids * 2):  # two tasks on each street; two of them urgent
        words = ["!", street, "1"] if k in (3, 9) else [street, "1"]
        await bot.post_task(coordinator, words)
    cadre = await person(bot, 10)
    rng = random.Random(5)
    for _ in range(8):
        lat, lon = 50.2 + rng.uniform(0, 0.05), 127.49 + rng.uniform(0, 0.03)
        await bot.check_in(cadre, lat, lon)
        chat = [(n.task.id, n.km) for n in await bot.tasks_for(cadre)]
        app = [(task.id, km) for task, km in await nearest_tasks(bot, lat, lon, 5)]
        assert [i for i, _ in app] == [i for i, _ in chat[:5]]
        for (_, km), (_, chat_km) in zip(app, chat, strict=False):
            assert (
                km is not None and chat_km is not None and abs(km - chat_km) < 0.01 * chat_km + 1e-3
            )
