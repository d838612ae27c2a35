"""The scheduler's decisions as pure functions of (now, state, config): no waiting."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from snowbot.domain import schedule
from snowbot.domain.schedule import Care
from snowbot.settings.config import ScheduleConfig

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def test_tally_periods_fall_on_the_city_clock() -> None:
    every = timedelta(minutes=30)
    # 10:00:00 and 10:29:59 city time are one period; 10:30 starts the next
    assert schedule.tally_slot(at("2026-11-26 10:00:00"), every, TZ) == schedule.tally_slot(
        at("2026-11-26 10:29:59"), every, TZ
    )
    assert (
        schedule.tally_slot(at("2026-11-26 10:30:00"), every, TZ)
        == schedule.tally_slot(at("2026-11-26 10:00:00"), every, TZ) + 1
    )
    assert schedule.seconds_to_next_tally(at("2026-11-26 10:20:00"), every, TZ) == 600
    five = timedelta(seconds=5)
    assert schedule.seconds_to_next_tally(at("2026-11-26 10:20:03"), five, TZ) == 2


def test_the_daily_summary_is_due_from_its_time_of_day_and_covers_24_hours() -> None:
    eight_pm = time(20, 0)
    assert schedule.daily_due(at("2026-11-26 19:59:59"), eight_pm, TZ) is None
    assert schedule.daily_due(at("2026-11-26 20:00:00"), eight_pm, TZ) == date(2026, 11, 26)
    assert schedule.daily_due(at("2026-11-26 23:59:00"), eight_pm, TZ) == date(2026, 11, 26)
    # after midnight it is the next day's, not yet due
    assert schedule.daily_due(at("2026-11-27 00:10:00"), eight_pm, TZ) is None
    since, until = schedule.day_window(date(2026, 11, 26), eight_pm, TZ)
    assert until == at("2026-11-26 20:00:00") and until - since == 24 * 3600
    assert schedule.daily_key(date(2026, 11, 26)) == "daily:2026-11-26"


def test_escalations_back_off_after_1_2_4_periods_and_stop() -> None:
    after = timedelta(minutes=30)
    posted = at("2026-11-26 08:00:00")

    def round_at(minutes: float, most: int = 4) -> int:
        return schedule.escalation_round(posted, posted + minutes * 60, after, most)

    # the k-th escalation after 2**k - 1 periods: 30, 90, 210, 450 minutes; each boundary
    # one second before and at it
    for k, minutes in enumerate((30, 90, 210, 450), start=1):
        assert round_at(minutes - 1 / 60) == k - 1, k
        assert round_at(minutes) == k, k
    # never more than escalate_max, however long the task waits
    assert round_at(24 * 60) == 4 and round_at(30 * 24 * 60) == 4
    assert round_at(24 * 60, most=2) == 2
    assert round_at(24 * 60, most=0) == 0
    # a clock that went backwards never escalates
    assert schedule.escalation_round(posted, posted - 10, after, 4) == 0
    # every sweep inside one round names the same escalation
    keys = {schedule.escalate_key(7, round_at(m)) for m in range(90, 210)}
    assert keys == {"escalate:7:2"}
    assert schedule.reannounce_key(7, 2) == "escalate:7:2:groups"


def test_the_reminder_comes_a_quarter_hour_ahead_or_a_fifth_of_a_short_shift() -> None:
    assert schedule.welfare_lead(timedelta(hours=8)) == timedelta(minutes=15)
    assert schedule.welfare_lead(timedelta(seconds=10)) == timedelta(seconds=2)
    assert schedule.welfare_lead(timedelta(minutes=50)) == timedelta(minutes=10)


def test_shift_care_warns_then_closes() -> None:
    eight = timedelta(hours=8)
    start = at("2026-11-26 07:00:00")
    assert schedule.shift_care(start, at("2026-11-26 14:44:59"), eight) == Care.NOTHING
    assert schedule.shift_care(start, at("2026-11-26 14:45:00"), eight) == Care.WARN
    assert schedule.shift_care(start, at("2026-11-26 14:59:59"), eight) == Care.WARN
    assert schedule.shift_care(start, at("2026-11-26 15:00:00"), eight) == Care.CLOSE
    ten = timedelta(seconds=10)
    assert [schedule.shift_care(0, s, ten) for s in (7.9, 8, 9.9, 10)] == [
        Care.NOTHING,
        Care.WARN,
        Care.WARN,
        Care.CLOSE,
    ]
    # each stretch on duty has its own reminder
    assert schedule.warn_key(4, 100.0) != schedule.warn_key(4, 200.0)


def test_sweeps_run_often_enough_for_the_shortest_setting() -> None:
    assert schedule.sweep_every(ScheduleConfig()) == 30
    short = ScheduleConfig(
        escalate_unaccepted_after=timedelta(seconds=6), max_shift=timedelta(seconds=10)
    )
    assert schedule.sweep_every(short) == 1
    tiny = ScheduleConfig(
        escalate_unaccepted_after=timedelta(seconds=1), max_shift=timedelta(seconds=1)
    )
    assert schedule.sweep_every(tiny) == schedule.SWEEP_MIN_SECONDS
