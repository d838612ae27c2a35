"""Durations as operators write them in the config: "45s", "30m", "8h", "1h30m"."""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"(?:\d+[smhd])+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Parse "45s", "30m", "8h", "2d" or a run of them ("1h30m"); raise ValueError otherwise."""
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not a duration like 45s, 30m or 8h")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(cleaned))
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The inverse of parse_duration, compact: 5400 s -> "1h30m"."""
    total = int(delta.total_seconds())
    if total == 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
    return "".join(out)
