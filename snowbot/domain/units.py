"""Units (单位包保): their names, how a typed name finds one, and their rows of the tally.

A unit's name is kept NFKC-normalised, like street names; it is matched the way
street names are (`snowbot.domain.directory.normalise`: case, spacing, full-width forms and
invisible characters do not matter), and suggested the way streets are.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from snowbot.domain.directory import normalise
from snowbot.domain.model import Unit
from snowbot.domain.names import NameIndex, build_name_index

MAX_UNIT_NAME = 100  # characters: a button's label, and a line of /units


class NameProblem(StrEnum):
    """Why a unit's name is refused (the gazetteer names the line, the chat replies)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    INVISIBLE = "invisible"  # control, direction or invisible characters


def clean_unit_name(raw: str) -> str | NameProblem:
    """A unit's name as it is kept (NFKC, trimmed, inner spacing as one space), or why not."""
    value = unicodedata.normalize("NFKC", raw).strip()
    # Cc: control characters (tabs and line breaks too); Cf: direction overrides, zero-width
    # spaces and joiners, which reorder or hide what a dispatcher reads
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        return NameProblem.INVISIBLE
    value = " ".join(value.split())
    if not value:
        return NameProblem.EMPTY
    if len(value) > MAX_UNIT_NAME:
        return NameProblem.TOO_LONG
    return value


def unit_key(name: str) -> str:
    """What makes two names one unit: the name as matched."""
    return normalise(name)


class MatchKind(StrEnum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"  # several units fit; `units` lists them
    UNKNOWN = "unknown"  # none fits; `units` holds the suggestions, if any


@dataclass(frozen=True)
class UnitMatch:
    kind: MatchKind
    units: list[Unit]


@dataclass(frozen=True)
class UnitNames:
    """The units by name as matched, and their name index (see `unit_names`)."""

    by_key: dict[str, Unit]
    index: NameIndex


def unit_names(units: Sequence[Unit]) -> UnitNames:
    """What a typed unit name is looked up in (pure: build it off the event loop)."""
    by_key = {normalise(u.name): u for u in units}
    return UnitNames(by_key, build_name_index(by_key))


def match_unit(
    text: str, units: Sequence[Unit], most: int, names: UnitNames | None = None
) -> UnitMatch:
    """The unit a typed name means: its exact name (as matched), else the one unit whose
    name begins with it (as districts are found); else the candidates or suggestions, by
    writing and by sound. `names`: `unit_names(units)`, when it is kept between calls."""
    wanted = normalise(text)
    if not wanted:
        return UnitMatch(MatchKind.UNKNOWN, [])
    found = unit_names(units) if names is None else names
    by_key = found.by_key
    exact = by_key.get(wanted)
    if exact is not None:
        return UnitMatch(MatchKind.FOUND, [exact])
    starting = found.index.starting(wanted)
    if len(starting) == 1:
        return UnitMatch(MatchKind.FOUND, [by_key[starting[0]]])
    if starting:
        return UnitMatch(MatchKind.AMBIGUOUS, [by_key[k] for k in starting[:most]])
    suggested = found.index.suggest(wanted, most)
    return UnitMatch(MatchKind.UNKNOWN, [by_key[k] for k in suggested])


class UnitCounts(NamedTuple):
    """A unit's row of the tally (a named tuple: the tally makes 2,000 at every count)."""

    unit: str
    person_times: int
    on_duty: int
    people: int
    streets_total: int
    streets_unserved: int

    def as_json(self) -> dict[str, str | int]:
        return {
            "unit": self.unit,
            "person_times": self.person_times,
            "on_duty": self.on_duty,
            "people": self.people,
            "streets_total": self.streets_total,
            "streets_unserved": self.streets_unserved,
        }


def by_turnout(units: Iterable[UnitCounts]) -> list[UnitCounts]:
    """Most person-times first, then most on duty, then by name (/units)."""
    return sorted(units, key=lambda u: (-u.person_times, -u.on_duty, u.unit))
