"""Units (单位包保): which unit a cadre comes from, joining one, and a coordinator's new unit.

A shift carries its cadre's unit from the moment it opens (storage does that in the
check-in's own transaction), so joining another unit later moves no turnout.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from snowbot.domain.limits import MAX_SUGGESTIONS
from snowbot.domain.model import Unit
from snowbot.domain.refusals import Refused
from snowbot.domain.roles import Role
from snowbot.domain.units import (
    MAX_UNIT_NAME,
    MatchKind,
    NameProblem,
    UnitNames,
    clean_unit_name,
    match_unit,
    unit_names,
)
from snowbot.service.core import ServiceCore
from snowbot.service.results import Person

ECHO = 50  # characters of a typed name said back in a refusal
MAX_PAGE = 100_000
# "/unit add NAME" (a coordinator); any other words name a unit to join
ADD_WORDS = ("add", "添加", "新增", "新建")


@dataclass(frozen=True)
class UnitChoice:
    """What /unit shows: the person's unit now (None: none) and every unit, by name."""

    current: Unit | None
    units: list[Unit]


class UnitService(ServiceCore):
    # the units' name index and the units it was built from (see `_unit_index`)
    _unit_names: tuple[tuple[tuple[int, str], ...], UnitNames] | None = None

    async def units(self) -> list[Unit]:
        """Every unit, by name (the demo's cast, the overview)."""
        return await self.store.units()

    async def unit_choice(self, person: Person) -> UnitChoice:
        """/unit: the sender's unit and the units to choose from."""
        self.require(person, Role.CADRE)
        return UnitChoice(await self.store.unit_of(person.id), await self.store.units())

    async def unit_words(self, person: Person, words: list[str]) -> tuple[Unit, bool]:
        """`/unit NAME` or `/unit add NAME` as typed: (the unit, True if it was made now)."""
        if words and words[0].casefold() in ADD_WORDS:
            return await self.add_unit(person, " ".join(words[1:])), True
        return await self.join_unit_named(person, " ".join(words)), False

    async def join_unit_named(self, person: Person, text: str) -> Unit:
        """Join the unit a typed name means; unknown or ambiguous names get suggestions."""
        self.require(person, Role.CADRE)
        units = await self.store.units()
        if not units:
            raise Refused("unit.no_units")
        found = match_unit(text, units, MAX_SUGGESTIONS, await self._unit_index(units))
        echo = " ".join(text.split())[:ECHO]
        if found.kind == MatchKind.FOUND:
            return await self.join_unit(person, found.units[0].id)
        names = [u.name for u in found.units]
        # `offer`: the units by id, for a private chat's buttons (docs/commands.md "Chinese as
        # people type it")
        offer = [(u.id, u.name) for u in found.units]
        if found.kind == MatchKind.AMBIGUOUS:
            raise Refused("unit.ambiguous", name=echo, units=names, offer=offer)
        if names:
            raise Refused("unit.unknown", name=echo, units=names, offer=offer)
        raise Refused("unit.unknown_none", name=echo)

    async def _unit_index(self, units: list[Unit]) -> UnitNames:
        """The units' name index, kept while the units stay the same; built on a thread
        (10,000 units take a tenth of a second) so no lookup holds the event loop."""
        key = tuple((u.id, u.name) for u in units)
        kept = self._unit_names
        if kept is not None and kept[0] == key:
            return kept[1]
        index = await asyncio.to_thread(unit_names, units)
        self._unit_names = (key, index)
        return index

    async def join_unit(self, person: Person, unit_id: int) -> Unit:
        """Make a unit the person's own (a button's choice): their next shifts count for it."""
        self.require(person, Role.CADRE)
        unit = await self.store.join_unit(person.id, unit_id)
        if unit is None:
            raise Refused("unit.gone")
        return unit

    async def add_unit(self, person: Person, text: str) -> Unit:
        """A coordinator's new unit; a name a unit has already (as matched) is refused."""
        self.require(person, Role.COORDINATOR)
        cleaned = clean_unit_name(text)
        if cleaned == NameProblem.EMPTY:
            raise Refused("unit.add_usage")
        if cleaned == NameProblem.TOO_LONG:
            raise Refused("refuse.too_long", limit=MAX_UNIT_NAME)
        if isinstance(cleaned, NameProblem):
            raise Refused("unit.bad_name")
        unit, made = await self.store.add_unit(cleaned)
        if not made:
            raise Refused("unit.exists", unit=unit.name)
        return unit


def parse_page(text: str) -> int:
    """A page number as typed ("2"), 0-based; a Refused for anything else."""
    if not re.fullmatch(r"[0-9]{1,6}", text.strip()) or not 1 <= int(text) <= MAX_PAGE:
        raise Refused("units.usage")
    return int(text) - 1
