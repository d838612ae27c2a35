"""The domain's rules as plain functions (issue #29): how many places an accept takes, when a
team waits for a dispatcher, which live report a new one joins. No database, no I/O; storage
calls these inside its transactions (tests/test_places.py, test_residents.py run them there)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from snowbot.domain.limits import REPORT_JOIN_SECONDS
from snowbot.domain.places import places_to_give_back, places_to_take
from snowbot.domain.residents import joinable_since, report_to_join
from snowbot.domain.teams import waits_for_confirmation

# one degree of latitude is about 111.2 km: 0.001° is about 111 m, 0.0015° about 167 m
LAT, LON = 50.25, 127.53


def test_an_accept_takes_what_is_wanted_within_both_bounds() -> None:
    assert places_to_take(free=5, needs=10, wanted=3) == 3
    assert places_to_take(free=5, needs=10, wanted=None) == 5  # all the shift has free
    assert places_to_take(free=8, needs=2, wanted=None) == 2  # all the task still needs
    assert places_to_take(free=8, needs=2, wanted=6) == 2
    assert places_to_take(free=1, needs=4, wanted=3) == 1


def test_an_accept_with_nothing_to_give_or_take_takes_nothing() -> None:
    assert places_to_take(free=0, needs=4, wanted=None) <= 0  # everyone placed elsewhere
    assert places_to_take(free=3, needs=0, wanted=2) <= 0  # the task is full


@given(free=st.integers(-3, 50), needs=st.integers(-3, 50), wanted=st.none() | st.integers(1, 50))
def test_an_accept_never_takes_more_than_either_bound(
    free: int, needs: int, wanted: int | None
) -> None:
    n = places_to_take(free, needs, wanted)
    assert n <= free and n <= needs
    if wanted is not None:
        assert n <= wanted
    if free > 0 and needs > 0:
        assert n > 0


def test_a_release_gives_back_what_is_asked_never_more_than_held() -> None:
    assert places_to_give_back(held=4, wanted=None) == 4
    assert places_to_give_back(held=4, wanted=1) == 1
    assert places_to_give_back(held=2, wanted=5) == 2


def test_a_team_above_the_bound_waits_for_a_dispatcher() -> None:
    assert waits_for_confirmation(11, 10)
    assert not waits_for_confirmation(10, 10)  # at the bound: counted at once
    assert not waits_for_confirmation(3, 10)
    assert not waits_for_confirmation(500, None)  # no bound: nobody waits


def test_a_report_joins_the_nearest_live_report_within_150_m() -> None:
    near, nearer, far = (1, LAT + 0.0012, LON), (2, LAT + 0.0005, LON), (3, LAT + 0.0015, LON)
    assert report_to_join(LAT, LON, [near, nearer, far]) == 2
    assert report_to_join(LAT, LON, [near, far]) == 1  # about 133 m: joins
    assert report_to_join(LAT, LON, [far]) is None  # about 167 m: a report of its own
    assert report_to_join(LAT, LON, []) is None


def test_a_report_joins_the_first_named_of_two_at_the_same_distance() -> None:
    assert report_to_join(LAT, LON, [(7, LAT + 0.001, LON), (4, LAT + 0.001, LON)]) == 7


def test_a_report_joins_only_reports_of_the_last_six_hours() -> None:
    now = 1_800_000_000.0
    assert joinable_since(now) == now - 6 * 3600 == now - REPORT_JOIN_SECONDS
