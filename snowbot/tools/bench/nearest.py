"""Figure 4: the nearest street at city scale, against a plain scan of every street."""

from __future__ import annotations

import math
import random
import statistics
import time

from snowbot.domain.geo import StreetIndex
from snowbot.domain.model import Street
from snowbot.tools.bench.common import Figure, Sizes

# -- 4. the nearest street at city scale -------------------------------------------------


def random_city(
    n: int, seed: int
) -> tuple[list[Street], dict[int, list[list[tuple[float, float]]]]]:
    """n streets, most of them short lines, at a big city's density around Heihe."""
    rng = random.Random(seed)
    side = math.sqrt(n / 100_000)  # 100,000 streets over about 1 x 1.5 degrees
    streets, lines = [], {}
    for i in range(1, n + 1):
        lat, lon = 49.8 + rng.random() * side, 126.8 + rng.random() * side * 1.5
        streets.append(Street(i, 1, "District", f"Street {i}", lat, lon))
        if rng.random() < 0.7:
            part = [(lat, lon)]
            for _ in range(rng.randint(1, 4)):
                lat += rng.uniform(-0.002, 0.002)
                lon += rng.uniform(-0.003, 0.003)
                part.append((lat, lon))
            lines[i] = [part]
    return streets, lines


def figure_nearest(sizes: Sizes) -> Figure:
    streets, lines = random_city(sizes.lookup_streets, 5)
    index = StreetIndex(streets, lines)
    lats = [s.lat for s in streets]
    lons = [s.lon for s in streets]
    rng = random.Random(6)

    def place() -> tuple[float, float]:
        return rng.uniform(min(lats), max(lats)), rng.uniform(min(lons), max(lons))

    times = []
    for _ in range(sizes.lookups):
        lat, lon = place()
        started = time.perf_counter()
        index.nearest(lat, lon, 15)
        times.append(time.perf_counter() - started)
    scans = []
    agree = True
    for _ in range(sizes.scans):
        lat, lon = place()
        started = time.perf_counter()
        slow = index.scan(lat, lon)
        scans.append(time.perf_counter() - started)
        fast = index.nearest(lat, lon, 15)
        agree = agree and fast is not None and slow is not None and fast.street == slow.street
    p50, scan = statistics.median(times) * 1000, statistics.median(scans) * 1000
    ratio = scan / p50
    return Figure(
        "nearest_street",
        "Nearest street, p50 per lookup",
        p50,
        "ms",
        scan,
        "a plain geodesic scan over every street",
        ratio,
        ">= 1000x faster than the scan, under 1 ms",
        ratio >= 1000 and p50 < 1 and agree,
        f"{sizes.lookup_streets:,} streets ({len(lines):,} of them lines), "
        f"{sizes.lookups} lookups; same street as the scan: {'yes' if agree else 'NO'}",
    )
