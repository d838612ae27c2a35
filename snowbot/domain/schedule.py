"""The scheduler's decisions (docs/commands.md "The scheduler") as pure functions of the time,
the state and the config.

Nothing here waits, reads the database or sends: `snowbot.service.sweeps` asks these
questions and queues what they answer. Every decision is named by a key
("tally:985112", "daily:2026-11-26", "escalate:12:2", "warn:40:1700000000") that
the outbox keeps, so asking twice, or again after a restart, queues nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from snowbot.settings.config import ScheduleConfig

# The reminder comes this long before max_shift closes a shift, or a fifth of
# max_shift when that is shorter (so a 10s test shift is warned at 8s).
WELFARE_LEAD = timedelta(minutes=15)
# How often escalations and shifts are swept: often enough for the shortest
# configured duration, never busier than once a second, never lazier than 30 s.
SWEEP_MIN_SECONDS = 1.0
SWEEP_MAX_SECONDS = 30.0
# The record of seen updates is kept two days; pruning it every sweep only costs writes.
PRUNE_EVERY_SECONDS = 3600.0
DAY = timedelta(days=1)


def _offset(now: float, tz: ZoneInfo) -> float:
    """The city's UTC offset at `now`, so periods line up with its clocks."""
    delta = datetime.fromtimestamp(now, tz).utcoffset()
    return delta.total_seconds() if delta else 0.0


def tally_slot(now: float, every: timedelta, tz: ZoneInfo) -> int:
    """Which periodic report is due at `now`: reports every 30m fall at :00 and :30 city time."""
    return int((now + _offset(now, tz)) // every.total_seconds())


def seconds_to_next_tally(now: float, every: timedelta, tz: ZoneInfo) -> float:
    period = every.total_seconds()
    return period - (now + _offset(now, tz)) % period


def tally_key(slot: int) -> str:
    return f"tally:{slot}"


def daily_due(now: float, at: time, tz: ZoneInfo) -> date | None:
    """The city's date when today's summary time has passed, else None."""
    local = datetime.fromtimestamp(now, tz)
    return local.date() if local.time().replace(tzinfo=None) >= at else None


def daily_due_days(now: float, at: time, tz: ZoneInfo, since: float) -> list[date]:
    """Every day whose summary time has come since `since` (the incident's start), oldest
    first: a bot that was down over midnight catches up each day it missed, once each."""
    local = datetime.fromtimestamp(now, tz)
    last = local.date() if local.time().replace(tzinfo=None) >= at else local.date() - DAY
    started = datetime.fromtimestamp(since, tz)
    # the first summary time after the incident began
    first = started.date() if started.time().replace(tzinfo=None) < at else started.date() + DAY
    return [first + DAY * n for n in range((last - first).days + 1)]


def storm_day(started_at: float, moment: float, tz: ZoneInfo) -> int:
    """Which day of the storm `moment` falls on: its first calendar day (city time) is 1."""
    start = datetime.fromtimestamp(started_at, tz).date()
    return (datetime.fromtimestamp(moment, tz).date() - start).days + 1


def day_began(now: float, tz: ZoneInfo) -> float:
    """The city's last midnight before `now`: "today" of a scheduled report."""
    local = datetime.fromtimestamp(now, tz)
    return datetime.combine(local.date(), time(0), tz).timestamp()


def day_window(day: date, at: time, tz: ZoneInfo) -> tuple[float, float]:
    """The 24 hours a day's summary covers: from the previous summary time to this one."""
    end = datetime.combine(day, at, tz)
    start = datetime.combine(day - timedelta(days=1), at, tz)
    return start.timestamp(), end.timestamp()


def daily_key(day: date) -> str:
    return f"daily:{day.isoformat()}"


def escalation_round(created_at: float, now: float, after: timedelta, most: int) -> int:
    """Which escalation a task is owed by now: 0 means none yet.

    They back off: the first after one `after` period, then 2, 4, 8 … periods after the
    one before (the k-th when 2**k - 1 periods have passed), and at most `most` of them.
    A task is escalated once per round, however often the sweep runs; a bot that was
    down for three rounds escalates once when it is back, not three times.
    """
    waited, period = now - created_at, after.total_seconds()
    round_ = 0
    while round_ < most and waited >= period * (2 ** (round_ + 1) - 1):
        round_ += 1
    return round_


def escalate_key(task_id: int, round_: int) -> str:
    """The dispatcher's notice of an escalation (sent in quiet hours too)."""
    return f"escalate:{task_id}:{round_}"


def reannounce_key(task_id: int, round_: int) -> str:
    """The task announced again in its district's groups (never in quiet hours)."""
    return f"{escalate_key(task_id, round_)}:groups"


def quiet_until(now: float, quiet: tuple[time, time] | None, tz: ZoneInfo) -> float | None:
    """When the quiet hours `now` falls in end (epoch seconds); None when it is not quiet.

    Quiet from the first time (inclusive) to the second (exclusive), city time; a span
    such as 23:00-06:00 runs over midnight.
    """
    if quiet is None:
        return None
    start, end = quiet
    local = datetime.fromtimestamp(now, tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside, ends_on = start <= clock < end, local.date()
    else:
        inside = clock >= start or clock < end
        ends_on = local.date() + DAY if clock >= start else local.date()
    return datetime.combine(ends_on, end, tz).timestamp() if inside else None


def welfare_lead(max_shift: timedelta) -> timedelta:
    return min(WELFARE_LEAD, max_shift / 5)


class Care(Enum):
    """What a shift needs from the welfare sweep."""

    NOTHING = "nothing"
    WARN = "warn"  # the reminder is due
    CLOSE = "close"  # max_shift is reached


def shift_care(welfare_from: float, now: float, max_shift: timedelta) -> Care:
    on_duty = now - welfare_from
    if on_duty >= max_shift.total_seconds():
        return Care.CLOSE
    if on_duty >= (max_shift - welfare_lead(max_shift)).total_seconds():
        return Care.WARN
    return Care.NOTHING


def warn_key(shift_id: int, welfare_from: float) -> str:
    # per stretch on duty: a cadre who rejoins is warned again before the next closure
    return f"warn:{shift_id}:{welfare_from:.3f}"


def closed_key(shift_id: int, welfare_from: float) -> str:
    return f"welfare-closed:{shift_id}:{welfare_from:.3f}"


def prune_due(last: float | None, now: float) -> bool:
    """Whether the record of seen updates should be pruned: once an hour, and at start."""
    return last is None or now - last >= PRUNE_EVERY_SECONDS


def sweep_every(schedule: ScheduleConfig) -> float:
    """Seconds between sweeps: half the shortest thing they watch, within 1–30 s."""
    shortest = min(schedule.escalate_unaccepted_after, welfare_lead(schedule.max_shift))
    half = shortest.total_seconds() / 2
    return max(SWEEP_MIN_SECONDS, min(SWEEP_MAX_SECONDS, half))
