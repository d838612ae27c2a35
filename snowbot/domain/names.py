"""Names as people type them on a pinyin keyboard: suggestions ranked by writing and by sound.

The commonest slip is a character swapped for one that sounds the same (学服路 for 学府路,
金安路 for 锦安路), so a name is also compared by its pinyin without tones, with the
sounds people confuse folded together (zh/z, ch/c, sh/s, n/l, -ng/-n). `build_name_index`
is a pure function of the names: build it once for a city's streets (and again when they
change; 100,000 names take a few seconds, so build it on a thread), then each suggestion
reads the names sharing its rarest letter and sound pairs and compares 60 in full, never
every name: a few milliseconds with 100,000 streets (figure `name_suggestion` of the bench).
"""

from __future__ import annotations

import bisect
import difflib
import os
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# A sound is looked up one character at a time, which pypinyin answers from its character
# table alone: its phrase table (about 43 MB once loaded) is never read, so it is not loaded
# (pypinyin's documented switch, read as it is first imported; every one of its 41,923
# characters reads the same with it or without).
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")

from pypinyin import Style, lazy_pinyin

# a token held by more names than this is read only when rarer tokens found too few
_COMMON = 2_000
# how many names, at most, a suggestion reads through the token lists (~a few ms)
_READ = 15_000
_RANKED = 60  # candidates compared in full (difflib's time is most of a lookup's)
_NONE: array[int] = array("i")
CUTOFF = 0.5  # the least score a suggestion needs

_FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


@lru_cache(maxsize=65_536)
def _syllable(char: str) -> str:
    """A Chinese character's sound: its commonest pinyin without tone, folded (see the
    module). One character at a time, each looked up once: names share their characters."""
    sound = lazy_pinyin(char, style=Style.NORMAL)[0]
    for long, short in _FOLDS:
        if sound.startswith(long):
            sound = short + sound[len(long) :]
    if sound.startswith("n") and sound != "n":
        sound = "l" + sound[1:]
    for long, short in _FINALS:
        if sound.endswith(long):
            sound = sound[: -len(long)] + short
    return sound


def sounds(name: str) -> tuple[str, ...]:
    """The sound of a (normalised) name: a syllable per Chinese character; any other
    letter stands for itself (spaces apart), so a Latin name sounds as it is spelt."""
    return tuple(_syllable(ch) if _is_han(ch) else ch for ch in name if not ch.isspace())


def _tokens(name: str, sound: tuple[str, ...]) -> set[str]:
    """What a candidate must share with the typed name: letter pairs, sound pairs, sounds."""
    found = {name[i : i + 2] for i in range(len(name) - 1)} or {name}
    found.update("~" + sound[i] + " " + sound[i + 1] for i in range(len(sound) - 1))
    found.update("~" + s for s in sound)
    return found


class Likeness:
    """How alike a name is to the typed one, 0..1: half by characters, half by sound.

    The typed name is difflib's second sequence, whose index difflib builds once."""

    def __init__(self, wanted: str) -> None:
        self._writing = difflib.SequenceMatcher(None, autojunk=False)
        self._writing.set_seq2(wanted)
        self._heard = difflib.SequenceMatcher(None, autojunk=False)
        self._heard.set_seq2(sounds(wanted))

    def __call__(self, name: str, sound: tuple[str, ...]) -> float:
        self._writing.set_seq1(name)
        self._heard.set_seq1(sound)
        return (self._writing.ratio() + self._heard.ratio()) / 2


@dataclass(frozen=True)
class NameIndex:
    """Names (normalised), sorted, with their sounds and which names hold each token."""

    names: tuple[str, ...]
    sound_of: dict[str, tuple[str, ...]]
    holders: dict[str, array[int]]

    def starting(self, wanted: str) -> list[str]:
        """The names that begin with `wanted`, shortest first."""
        if not wanted:
            return []
        low = bisect.bisect_left(self.names, wanted)
        high = bisect.bisect_left(self.names, wanted + "\U0010ffff")
        return sorted(self.names[low:high], key=lambda n: (len(n), n))

    def unique_start(self, wanted: str) -> str | None:
        """The one name beginning with `wanted` (中央 → 中央街), or None (none, or several)."""
        low = bisect.bisect_left(self.names, wanted)
        high = bisect.bisect_left(self.names, wanted + "\U0010ffff")
        return self.names[low] if wanted and high - low == 1 else None

    def suggest(self, wanted: str, most: int) -> list[str]:
        """Up to `most` names like `wanted` (normalised): those beginning with it, then the
        closest by writing and sound (a homophone before a name one character apart)."""
        if not wanted:
            return []
        picked = self.starting(wanted)[:most]
        wanted_sound = sounds(wanted)
        shared: Counter[int] = Counter()
        tokens = _tokens(wanted, wanted_sound)
        lists = sorted((self.holders.get(t, _NONE) for t in tokens), key=len)
        read = 0
        for holders in lists:
            if read and (read + len(holders) > _READ or len(holders) > _COMMON):
                break
            # even the rarest token may be common ("路"): read a part of it, not all
            shared.update(holders[:_READ])
            read += len(holders)
        likeness = Likeness(wanted)
        ranked = []
        for i, _ in shared.most_common(_RANKED):
            name = self.names[i]
            alike = likeness(name, self.sound_of[name])
            if alike >= CUTOFF and name not in picked:
                ranked.append((-alike, len(name), name))
        ranked.sort()
        picked.extend(name for _, _, name in ranked)
        return picked[:most]


def build_name_index(names: Iterable[str]) -> NameIndex:
    """The index of (already normalised) names: pure, so it can be rebuilt whenever the
    names change (a street import, another process's new streets, a new unit)."""
    ordered = tuple(sorted(set(names)))
    sound_of = {name: sounds(name) for name in ordered}
    holders: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(ordered):
        for token in _tokens(name, sound_of[name]):
            holders[token].append(i)
    # arrays, not lists: the garbage collector need not walk a million entries
    return NameIndex(ordered, sound_of, {t: array("i", ids) for t, ids in holders.items()})
