"""The lines `snowbot play` reads (docs/commands.md "Try it first: snowbot play"), parsed into what
they ask for.

A line is one of: `NAME: TEXT`, `NAME @ STREET`, `NAME @ LAT,LON`, `NAME [LABEL]`,
`NAME in GROUP: TEXT`, `wait DURATION`, `tally`, `quit`. Blank lines and lines starting
with `#` are skipped, so that a script can be commented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from snowbot.settings.durations import parse_duration


@dataclass(frozen=True)
class Say:
    name: str
    text: str
    group: str | None = None  # `NAME in GROUP: TEXT`


@dataclass(frozen=True)
class Locate:
    name: str
    street: str | None  # `NAME @ STREET`
    point: tuple[float, float] | None = None  # `NAME @ LAT,LON`


@dataclass(frozen=True)
class Press:
    name: str
    label: str


@dataclass(frozen=True)
class Wait:
    duration: timedelta


@dataclass(frozen=True)
class ShowTally:
    pass


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class Skip:
    """A blank line or a comment."""


@dataclass(frozen=True)
class Unknown:
    line: str


Line = Say | Locate | Press | Wait | ShowTally | Quit | Skip | Unknown

# a name is one word (Chinese or Latin letters, digits, _ and -): "王协调", "Li_Ming"
_NAME = r"(?P<name>[^\s:：@\[\]#]+)"
_GROUP_SAY = re.compile(rf"{_NAME}\s+in\s+(?P<group>[^\s:：]+)\s*[:：]\s?(?P<text>.*)")
_SAY = re.compile(rf"{_NAME}\s*[:：]\s?(?P<text>.*)")
_LOCATE = re.compile(rf"{_NAME}\s*@\s*(?P<where>.+)")
_PRESS = re.compile(rf"{_NAME}\s*\[(?P<label>[^\]]+)\]")
_POINT = re.compile(r"(?P<lat>[-+]?\d+(?:\.\d+)?)\s*[,，]\s*(?P<lon>[-+]?\d+(?:\.\d+)?)")
_WAIT = re.compile(r"wait\s+(?P<duration>\S+)", re.IGNORECASE)


def parse_line(raw: str) -> Line:
    """What one line of input asks for; `Unknown` when it is none of the forms."""
    line = raw.strip()
    if not line or line.startswith("#"):
        return Skip()
    lowered = line.lower()
    if lowered in ("quit", "exit"):
        return Quit()
    if lowered == "tally":
        return ShowTally()
    if waited := _WAIT.fullmatch(line):
        try:
            duration = parse_duration(waited["duration"])
        except ValueError:
            return Unknown(line)
        return Wait(duration) if duration > timedelta(0) else Unknown(line)
    if said := _GROUP_SAY.fullmatch(line):
        return _say(said["name"], said["text"], said["group"], line)
    if said := _SAY.fullmatch(line):
        return _say(said["name"], said["text"], None, line)
    if located := _LOCATE.fullmatch(line):
        where = located["where"].strip()
        if point := _POINT.fullmatch(where):
            lat, lon = float(point["lat"]), float(point["lon"])
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return Locate(located["name"], None, (lat, lon))
            return Unknown(line)
        return Locate(located["name"], where)
    if pressed := _PRESS.fullmatch(line):
        return Press(pressed["name"], pressed["label"].strip())
    return Unknown(line)


def _say(name: str, text: str, group: str | None, line: str) -> Say | Unknown:
    text = text.strip()
    return Say(name, text, group) if text else Unknown(line)
