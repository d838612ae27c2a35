"""Figure: a name typed wrong, by sound, among a big city's streets and units (docs/commands.md
"Chinese as people type it").

Each lookup is a street name with one character swapped for another of the same sound
(学服路 for 学府路), the commonest slip on a pinyin keyboard: the suggestions of
`snowbot.domain.names` against difflib over every name, as the bot did before. No lookup may
hold the event loop for more than 50 ms with 100,000 streets or 10,000 units.
"""

from __future__ import annotations

import difflib
import random
import statistics
import time
from collections import defaultdict

from snowbot.domain.directory import normalise
from snowbot.domain.limits import MAX_SUGGESTIONS
from snowbot.domain.model import Unit
from snowbot.domain.names import build_name_index, sounds
from snowbot.domain.units import match_unit, unit_names
from snowbot.tools.bench.common import Figure, Sizes

# characters Chinese street and unit names are made of
POOL = (
    "中央东西南北兴安学府锦金王肃龙滨海兰通江文化新大和平铁光明青山人民胜利团结建设长春华庆"
    "红旗北山沿站前孙吴辰清溪腰屯边疆兴振苑鄂车陆松树沟宝奇克墨尔根嫩繁荣雨亭科洛伊拉哈德都"
    "永钟灵火五一药泉青龙门兆麟丰和平安康宁福寿富贵吉祥顺利昌盛隆泰恒益广源林森园桥湖河港"
    "湾岭峰台坊里巷街路道园村镇乡城市区县局厅委办处所站场院校医环卫交通运输住建城管水务供热"
)
ENDS = "路街道巷"
LIMIT_MS = 50.0


def random_names(n: int, seed: int, ends: str = ENDS) -> list[str]:
    """n distinct names of two to four characters and an ending."""
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < n:
        body = "".join(rng.choice(POOL) for _ in range(rng.randint(2, 4)))
        names.add(body + rng.choice(ends))
    return sorted(names)


def misheard(names: list[str], count: int, seed: int) -> list[str]:
    """`count` of the names, each with one character swapped for one of the same sound."""
    by_sound: dict[str, list[str]] = defaultdict(list)
    for char in dict.fromkeys(POOL):
        by_sound[sounds(char)[0]].append(char)
    rng = random.Random(seed)
    typed: list[str] = []
    while len(typed) < count:
        name = rng.choice(names)
        at = rng.randrange(len(name) - 1)
        twins = [c for c in by_sound[sounds(name[at])[0]] if c != name[at]]
        if twins:
            typed.append(name[:at] + rng.choice(twins) + name[at + 1 :])
    return typed


def figure_names(sizes: Sizes) -> Figure:
    names = random_names(sizes.lookup_streets, 11)
    started = time.perf_counter()
    index = build_name_index(names)
    built = time.perf_counter() - started
    typed = misheard(names, sizes.lookups, 12)
    walls, cpus, found = [], [], 0
    for wanted in typed:
        wall, cpu = time.perf_counter(), time.process_time()
        picked = index.suggest(normalise(wanted), MAX_SUGGESTIONS)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        found += any(sounds(p) == sounds(wanted) for p in picked)
    scans = []
    for wanted in typed[: sizes.scans]:
        started = time.perf_counter()
        difflib.get_close_matches(wanted, names, n=MAX_SUGGESTIONS, cutoff=0.5)
        scans.append((time.perf_counter() - started) * 1000)
    units = [Unit(i, n) for i, n in enumerate(random_names(sizes.lookup_streets // 10, 13, "局"))]
    kept = unit_names(units)
    unit_cpus = []
    for wanted in misheard([u.name for u in units], min(200, sizes.lookups), 14):
        cpu = time.process_time()
        match_unit(wanted, units, MAX_SUGGESTIONS, kept)
        unit_cpus.append((time.process_time() - cpu) * 1000)
    p50, scan = statistics.median(walls), statistics.median(scans)
    p99 = statistics.quantiles(walls, n=100)[98]
    worst, worst_unit = max(cpus), max(unit_cpus)
    return Figure(
        "name_suggestion",
        "Street suggestion by writing and sound, p50 per lookup",
        p50,
        "ms",
        scan,
        "difflib over every street name",
        scan / p50,
        f"each lookup's work under {LIMIT_MS:g} ms (streets and units), p99 too",
        max(worst, worst_unit, p99) < LIMIT_MS,
        f"{len(names):,} streets, {len(typed)} names typed with a homophone: p99 {p99:.1f} ms, "
        f"slowest {worst:.1f} ms of CPU; the name meant among the suggestions "
        f"{found / len(typed):.0%}; {len(units):,} units: slowest {worst_unit:.1f} ms of CPU; "
        f"index built in {built:.2f} s (on a thread, never on the event loop)",
    )
