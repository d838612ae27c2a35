"""When the scheduler's sweeps run, on python-telegram-bot's JobQueue (APScheduler 3).

Nothing due lives only here: the jobs are made from the config at every start,
and each one asks the database what is due (`snowbot.service.sweeps`), so a restart
resumes where the last run stopped. A job only decides *when* to look.
"""

from __future__ import annotations

import logging
import time

from telegram.ext import Application, ContextTypes, JobQueue

from handlers.common import Context, service, service_of
from handlers.delivery import Courier
from snowbot.domain import schedule
from snowbot.service.sweeps import Sweeps

log = logging.getLogger("snowbot.jobs")

COURIER_KEY = "courier"
# How often the outbox is looked at for messages waiting on a retry. New messages
# do not wait for this: whoever queues them starts a delivery at once.
DELIVERY_POLL_SECONDS = 2.0


def courier(context: Context) -> Courier:
    found: Courier = context.application.bot_data[COURIER_KEY]
    return found


def deliver_soon(context: Context) -> None:
    """Start sending the outbox now, without holding up the reply in progress."""
    if courier(context).closing:  # stopping: what is queued goes at the next start
        return
    context.application.create_task(courier(context).deliver(), name="deliver")


def start_jobs(app: Application, scheduled: bool = True) -> None:  # type: ignore[type-arg]
    """Deliveries always; the sweeps and reports unless the caller drives them (the demo)."""
    jobs: JobQueue[ContextTypes.DEFAULT_TYPE] | None = app.job_queue
    assert jobs is not None, "python-telegram-bot[job-queue] is a dependency"
    jobs.run_repeating(_deliver, interval=DELIVERY_POLL_SECONDS, first=0, name="outbox")
    if scheduled:
        start_schedule(app)


def start_schedule(app: Application) -> None:  # type: ignore[type-arg]
    """The sweeps and reports: on one process of a database only (`snowbot.settings.leadership`)."""
    jobs: JobQueue[ContextTypes.DEFAULT_TYPE] | None = app.job_queue
    assert jobs is not None
    config = service_of(app).config
    every = config.schedule
    tz = config.city.timezone
    jobs.run_repeating(
        _tally,
        interval=every.tally_every,
        first=schedule.seconds_to_next_tally(time.time(), every.tally_every, tz),
        name="tally",
    )
    jobs.run_daily(_daily, time=every.daily_report_at.replace(tzinfo=tz), name="daily")
    # the first sweep, at once, catches up with whatever fell due while the bot was down
    jobs.run_repeating(_sweep, interval=schedule.sweep_every(every), first=0, name="sweep")
    log.info(
        "scheduler: tally every %s, daily summary at %s, sweeps every %.0f s",
        every.tally_every,
        every.daily_report_at.isoformat(),
        schedule.sweep_every(every),
    )


async def _tally(context: Context) -> None:
    if await Sweeps(service(context)).tally_report():
        await courier(context).deliver()


async def _daily(context: Context) -> None:
    if await Sweeps(service(context)).daily_report():
        await courier(context).deliver()


async def _sweep(context: Context) -> None:
    swept = await Sweeps(service(context)).everything()
    if swept.total:
        log.info("sweep queued %s", swept)
        await courier(context).deliver()


async def _deliver(context: Context) -> None:
    # a delivery may outlast the poll interval (one announcement to 200 groups at Telegram's
    # rate takes 7 s), and APScheduler would then skip this job with a warning every 2 s:
    # the job only starts a delivery, and the courier folds overlapping ones together
    deliver_soon(context)
