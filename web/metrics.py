"""/metrics: the tally's numbers and the bot's health in Prometheus text, through the
official client. The tally is read from its JSON, so a number the tally gains (e.g.
`assigned`) appears here without a change."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from snowbot.service.health import Health

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Snapshot(Collector):
    """Yields what was read once for this scrape."""

    def __init__(self, tally: Mapping[str, Any], health: Health, backlog: int, screens: int):
        self.tally, self.health, self.backlog, self.screens = tally, health, backlog, screens

    def collect(self) -> Iterator[Metric]:
        t = self.tally
        for key in ("person_times", "on_duty", "assigned", "available", "people"):
            if isinstance(t.get(key), int):
                yield _gauge(f"snowbot_{key}", f"The current incident's {key} (city-wide)", t[key])
        tasks = GaugeMetricFamily("snowbot_tasks", "Tasks by status", labels=["status"])
        for status, n in t.get("tasks", {}).items():
            tasks.add_metric([status], n)
        yield tasks
        streets = GaugeMetricFamily("snowbot_streets", "Streets by state", labels=["state"])
        for state in ("served", "unserved"):
            streets.add_metric([state], t.get("streets", {}).get(state, 0))
        yield streets
        per_district = {
            "person_times": "Person-times per district",
            "on_duty": "People on duty per district",
            "tasks_done": "Tasks done per district",
            "streets_total": "Streets per district",
            "streets_unserved": "Streets not yet served per district",
        }
        for key, text in per_district.items():
            family = GaugeMetricFamily(f"snowbot_district_{key}", text, labels=["district"])
            for d in t.get("districts", []):
                if isinstance(d.get(key), int):
                    family.add_metric([d["district"]], d[key])
            yield family
        h = self.health
        yield _counter("snowbot_updates_handled", "Telegram updates handled", h.updates_handled)
        yield _counter("snowbot_handler_errors", "Updates or jobs that failed", h.handler_errors)
        yield _counter("snowbot_telegram_errors", "Messages Telegram refused", h.telegram_errors)
        yield _counter(
            "snowbot_telegram_retries", "Messages put back to send later", h.telegram_retries
        )
        yield _gauge("snowbot_outbox_backlog", "Messages waiting to be sent", self.backlog)
        yield _gauge("snowbot_overview_screens", "Screens following the live feed", self.screens)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=value)


def exposition(tally: Mapping[str, Any], health: Health, backlog: int, screens: int) -> bytes:
    """The Prometheus text of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(tally, health, backlog, screens))
    return generate_latest(registry)
