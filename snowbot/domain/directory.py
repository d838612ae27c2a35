"""The city's streets and districts in memory: lookup by id, by name and by position."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from snowbot.domain.geo import Lines, Nearest, StreetIndex
from snowbot.domain.limits import MAX_SUGGESTIONS
from snowbot.domain.model import District, Street
from snowbot.domain.names import NameIndex, build_name_index


def normalise(name: str) -> str:
    """Case, spacing, full-width forms and invisible characters do not matter in names."""
    folded = unicodedata.normalize("NFKC", name)
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return re.sub(r"\s+", " ", visible).strip().casefold()


@dataclass(frozen=True)
class StreetMatch:
    """What the leading words of a command named."""

    streets: list[Street]  # one: found; several: ambiguous
    rest: list[str]  # the words after the street name


class Directory:
    def __init__(
        self,
        streets: list[Street],
        districts: list[District],
        lines: Mapping[int, Lines] | None = None,
    ) -> None:
        self.streets = streets
        self.by_id = {s.id: s for s in streets}
        self.districts = {d.name: d for d in districts}
        self.district_names = {d.id: d.name for d in districts}
        self._by_name: dict[str, list[Street]] = defaultdict(list)
        for street in streets:
            self._by_name[normalise(street.name)].append(street)
        self._district_by_norm = {normalise(d.name): d for d in districts}
        # suggestions by writing and by sound, and unique leading parts (docs/commands.md "Chinese
        # as people type it")
        self.names: NameIndex = build_name_index(self._by_name)
        self._district_names = build_name_index(self._district_by_norm)
        self.index = StreetIndex(streets, lines)
        # for the tally: districts by name, each with its streets by name (the order of
        # `snowbot tally --json`)
        by_district: dict[str, list[Street]] = defaultdict(list)
        for street in streets:
            by_district[street.district].append(street)
        self._by_district = [
            (name, sorted(by_district.get(name, []), key=lambda s: s.name))
            for name in sorted(self.districts)
        ]
        self._max_words = max((len(n.split(" ")) for n in self._by_name), default=1)

    def nearest(self, lat: float, lon: float, within_km: float) -> Nearest | None:
        return self.index.nearest(lat, lon, within_km)

    def streets_by_district(self) -> list[tuple[str, list[Street]]]:
        """Every district by name, with its streets by name."""
        return self._by_district

    def box(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """(south-west, north-east) corners of the city's streets, as (lat, lon)."""
        if not self.streets:
            return None
        lats = [s.lat for s in self.streets]
        lons = [s.lon for s in self.streets]
        return (min(lats), min(lons)), (max(lats), max(lons))

    def distance_km(
        self, street_id: int, lat: float, lon: float, exact: bool = True
    ) -> float | None:
        """From a position to a street's nearest point (along its lines, if it has them)."""
        return self.index.distance_km(street_id, lat, lon, exact)

    def district(self, text: str) -> District | None:
        """The district named by `text`, or by a prefix only one district has ("爱辉" → 爱辉区)."""
        wanted = normalise(text)
        exact = self._district_by_norm.get(wanted)
        if exact is not None or not wanted:
            return exact
        starting = self._district_names.unique_start(wanted)
        return self._district_by_norm[starting] if starting is not None else None

    def suggest_districts(self, text: str) -> list[str]:
        """The districts' names most like `text`, by writing and sound (none: [])."""
        picked = self._district_names.suggest(normalise(text), MAX_SUGGESTIONS)
        return [self._district_by_norm[name].name for name in picked]

    def match_leading(self, words: list[str], district_id: int | None = None) -> StreetMatch:
        """The longest run of leading words that names a street, or a street id.

        A district name may come first to pick between streets of the same name;
        `district_id` (a bound dispatcher's) does the same.
        """
        if words:
            named = self.district(words[0])
            if named is not None and len(words) > 1:
                found = self._match_names(words[1:], named.id)
                if not found.streets:
                    found = self._match_start(words[1:], named.id)
                if found.streets:
                    return found
        found = self._match_names(words, district_id)
        if found.streets:
            return found
        if words and re.fullmatch(r"#?\d{1,9}", words[0]):
            street = self.by_id.get(int(words[0].lstrip("#")))
            if street is not None:
                return StreetMatch([street], words[1:])
        return self._match_start(words, district_id)

    def _match_names(self, words: list[str], district_id: int | None) -> StreetMatch:
        for k in range(min(len(words), self._max_words), 0, -1):
            streets = self._by_name.get(normalise(" ".join(words[:k])))
            if streets:
                if district_id is not None and len(streets) > 1:
                    mine = [s for s in streets if s.district_id == district_id]
                    streets = mine or streets
                return StreetMatch(list(streets), words[k:])
        return StreetMatch([], words)

    def _match_start(self, words: list[str], district_id: int | None) -> StreetMatch:
        """A leading part of one street's name only (中央 → 中央街): that street."""
        for k in range(min(len(words), self._max_words), 0, -1):
            name = self.names.unique_start(normalise(" ".join(words[:k])))
            if name is not None:
                return self._match_names([*name.split(" "), *words[k:]], district_id)
        return StreetMatch([], words)

    def suggest(self, text: str) -> list[Street]:
        """Up to five streets whose names look or sound like `text` (docs/commands.md "Chinese as
        people type it")."""
        out: list[Street] = []
        for name in self.names.suggest(normalise(text), MAX_SUGGESTIONS):
            out.extend(self._by_name[name])
        return out[:MAX_SUGGESTIONS]
