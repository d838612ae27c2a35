"""The city's streets and districts in memory: lookup by id, by name and by position."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from snowbot.geo import Lines, Nearest, StreetIndex
from snowbot.limits import MAX_SUGGESTIONS
from snowbot.model import District, Street


def _pairs(name: str) -> set[str]:
    """The adjacent letter pairs of a name (the letter itself for a one-letter name)."""
    return {name[i : i + 2] for i in range(len(name) - 1)} or {name}


def normalise(name: str) -> str:
    """Case, spacing, full-width forms and invisible characters do not matter in names."""
    folded = unicodedata.normalize("NFKC", name)
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return re.sub(r"\s+", " ", visible).strip().casefold()


def close_names(
    wanted: str, names: Iterable[str], most: int, candidates: list[str] | None = None
) -> list[str]:
    """Up to `most` of the (normalised) `names` that look like `wanted`: those beginning
    with it, then those holding it, shortest first, then the closest of `candidates`
    (default: every name) by difflib; streets and units are suggested alike."""
    names = list(names)
    picked = [n for n in names if n.startswith(wanted) or wanted in n]
    picked.sort(key=lambda n: (not n.startswith(wanted), len(n), n))
    pool = names if candidates is None else candidates
    for close in difflib.get_close_matches(wanted, pool, n=most, cutoff=0.5):
        if close not in picked:
            picked.append(close)
    return picked[:most]


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
        self._pairs: dict[str, list[str]] | None = None  # built on the first suggestion
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
        starting = [d for name, d in self._district_by_norm.items() if name.startswith(wanted)]
        return starting[0] if len(starting) == 1 else None

    def match_leading(self, words: list[str], district_id: int | None = None) -> StreetMatch:
        """The longest run of leading words that names a street, or a street id.

        A district name may come first to pick between streets of the same name;
        `district_id` (a bound dispatcher's) does the same.
        """
        if words:
            named = self.district(words[0])
            if named is not None and len(words) > 1:
                found = self._match_names(words[1:], named.id)
                if found.streets:
                    return found
        found = self._match_names(words, district_id)
        if found.streets:
            return found
        if words and re.fullmatch(r"#?\d{1,9}", words[0]):
            street = self.by_id.get(int(words[0].lstrip("#")))
            if street is not None:
                return StreetMatch([street], words[1:])
        return StreetMatch([], words)

    def _match_names(self, words: list[str], district_id: int | None) -> StreetMatch:
        for k in range(min(len(words), self._max_words), 0, -1):
            streets = self._by_name.get(normalise(" ".join(words[:k])))
            if streets:
                if district_id is not None and len(streets) > 1:
                    mine = [s for s in streets if s.district_id == district_id]
                    streets = mine or streets
                return StreetMatch(list(streets), words[k:])
        return StreetMatch([], words)

    def _sharing_pairs(self, wanted: str, most: int = 300) -> list[str]:
        """Up to `most` street names sharing the most adjacent letter pairs with `wanted`."""
        if self._pairs is None:
            self._pairs = {}
            for name in self._by_name:
                for pair in _pairs(name):
                    self._pairs.setdefault(pair, []).append(name)
        shared: Counter[str] = Counter()
        for pair in _pairs(wanted):
            shared.update(self._pairs.get(pair, ()))
        return [name for name, _ in shared.most_common(most)]

    def suggest(self, text: str) -> list[Street]:
        """Up to five streets whose names look like `text`."""
        wanted = normalise(text)
        if not wanted:
            return []
        # difflib over every name of a 100,000-street city takes seconds, on the event loop:
        # it only ranks the names that share the most letter pairs with what was typed
        picked = close_names(wanted, self._by_name, MAX_SUGGESTIONS, self._sharing_pairs(wanted))
        out: list[Street] = []
        for name in picked:
            out.extend(self._by_name[name])
        return out[:MAX_SUGGESTIONS]
