"""Names by writing and by sound (SPEC §13): the index's pure parts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import words
from handlers.enrolment import read_invite_data
from snowbot.domain.directory import Directory, normalise
from snowbot.domain.model import District, Street, Unit
from snowbot.domain.names import build_name_index, sounds
from snowbot.domain.numerals import count_text
from snowbot.domain.units import MatchKind, match_unit, unit_names

STREETS = ["学府路", "学府街", "锦安路", "永安路", "中央街", "海兰街", "海兰东街", "Station Road"]


def test_sounds_ignore_tones_and_fold_what_a_pinyin_keyboard_confuses() -> None:
    assert sounds("学服路") == sounds("学府路") == ("xue", "fu", "lu")
    assert sounds("金安路") == sounds("锦安路")
    assert sounds("爱会区") == sounds("爱辉区")
    assert sounds("城关局") == sounds("城管局")
    assert sounds("王素街") == sounds("王肃街")
    assert sounds("中") == sounds("宗")  # zh/z
    assert sounds(normalise("Station Road")) == tuple("stationroad")


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("学服路", "学府路"),  # one character, same sound: before 学府街 (same writing, one apart)
        ("金安路", "锦安路"),  # before 永安路, which shares only writing
        ("海兰", "海兰街"),  # leading part first, shortest first
        ("statoin road", "station road"),  # Latin names by their letters
    ],
)
def test_the_likeliest_name_comes_first(typed: str, first: str) -> None:
    index = build_name_index(normalise(s) for s in STREETS)
    assert index.suggest(normalise(typed), 5)[0] == first


def test_nothing_alike_is_no_suggestion() -> None:
    index = build_name_index(normalise(s) for s in STREETS)
    assert index.suggest("喀什噶尔", 5) == []
    assert index.suggest("", 5) == []


def test_a_leading_part_names_a_street_only_when_one_street_starts_so() -> None:
    district = District(1, "爱辉区")
    streets = [Street(i, 1, "爱辉区", n, 50.0, 127.0) for i, n in enumerate(STREETS, 1)]
    directory = Directory(streets, [district])
    assert [s.name for s in directory.match_leading(["中央", "2"]).streets] == ["中央街"]
    assert directory.match_leading(["中央", "2"]).rest == ["2"]
    assert directory.match_leading(["海兰", "2"]).streets == []  # 海兰街 and 海兰东街
    assert [s.name for s in directory.match_leading(["爱辉", "锦", "2"]).streets] == ["锦安路"]


def test_the_index_is_a_pure_function_of_the_names() -> None:
    once = build_name_index(["学府路", "锦安路"])
    again = build_name_index(["锦安路", "学府路", "学府路"])
    assert once == again


def test_units_by_sound_and_by_leading_part() -> None:
    units = [Unit(1, "爱辉区城管局"), Unit(2, "爱辉区交通运输局"), Unit(3, "北安市城管局")]
    kept = unit_names(units)
    unknown = match_unit("爱辉区城关局", units, 5, kept)
    assert unknown.kind == MatchKind.UNKNOWN and unknown.units[0].name == "爱辉区城管局"
    assert match_unit("爱辉区交通", units, 5, kept).units == [units[1]]
    assert match_unit("爱辉区", units, 5, kept).kind == MatchKind.AMBIGUOUS


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_read_or_left_never_a_crash(text: str) -> None:
    words.read(text)  # a word and what follows, or None
    assert count_text(text) == text or count_text(text).isascii()
    index = build_name_index([normalise(s) for s in STREETS])
    assert len(index.suggest(normalise(text), 5)) <= 5
    assert read_invite_data(text) is None or text.startswith("i1|")


def test_pypinyins_phrase_table_is_never_loaded() -> None:
    """Sounds are read a character at a time: the bot does without pypinyin's phrase table
    (about 43 MB of its peak memory, bench figure `memory`)."""
    probe = (
        "import snowbot.domain.names as n, pypinyin.constants as c; "
        "print(len(c.PHRASES_DICT), n.sounds('学府路'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    assert found[0] == "0"
    assert found[1].strip() == str(sounds("学府路"))  # and the sounds are the same
