"""The seed storm reads like the city's bulletin: 5.6万余 person-times over six days that
rise to a peak and tail off, districts unequal (the replay itself is timed by `snowbot
bench`, figure 7, and checked end to end there)."""

from __future__ import annotations

import itertools

from snowbot.text.closing import bulletin
from snowbot.text.texts import catalog
from snowbot.tools.demo.cast import SEED_DAYS
from snowbot.tools.demo.seed import SEED_DISTRICT_WEIGHTS, seed_days


def test_the_days_add_up_to_what_the_city_reported() -> None:
    days = seed_days()
    assert len(days) == SEED_DAYS
    assert 56_000 <= sum(days) <= 56_999
    assert bulletin(catalog("zh"), sum(days)) == "5.6万余"


def test_the_days_rise_to_one_peak_and_tail_off() -> None:
    days = seed_days()
    peak = days.index(max(days))
    assert 0 < peak < SEED_DAYS - 1
    assert all(a < b for a, b in itertools.pairwise(days[: peak + 1]))
    assert all(a > b for a, b in itertools.pairwise(days[peak:]))
    assert len(set(days)) == SEED_DAYS  # no two days alike: "the busiest day" means something


def test_the_districts_do_not_turn_out_alike() -> None:
    assert len(set(SEED_DISTRICT_WEIGHTS)) == len(SEED_DISTRICT_WEIGHTS)
