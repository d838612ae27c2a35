"""Words as people type them: Chinese numerals, district prefixes, a backup's free name."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowbot.domain.directory import Directory
from snowbot.domain.model import District, Street
from snowbot.domain.numerals import chinese_number, count_text
from storage.backup import _free_name


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一", 1),
        ("两", 2),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("二十三", 23),
        ("九十九", 99),
        ("一百", 100),
        ("一百零五", 105),
        ("二百二十", 220),
        ("三五", None),
        ("十十", None),
        ("百", None),
        ("零", None),
        ("二十五十", None),
        ("中央", None),
        ("", None),
    ],
)
def test_chinese_numerals(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


def test_counts_in_other_forms_become_ascii_digits_or_stay_as_typed() -> None:
    assert count_text("３") == "3"
    assert count_text("十二") == "12"
    assert count_text("١٢٣") == "١٢٣"  # refused later, never read as 123
    assert count_text("ice") == "ice"


def test_a_district_by_a_prefix_only_when_one_district_has_it() -> None:
    districts = [District(1, "爱辉区"), District(2, "爱民区"), District(3, "北安市")]
    streets = [Street(i, i, d.name, "中央街", 50.0, 127.0) for i, d in enumerate(districts, 1)]
    directory = Directory(streets, districts)
    assert directory.district("爱辉") == districts[0]
    assert directory.district("北") == districts[2]
    assert directory.district("爱") is None  # two districts start so
    assert directory.district("") is None
    assert directory.district("北安市") == districts[2]


def test_a_kept_copy_never_takes_a_name_already_there(tmp_path: Path) -> None:
    database = tmp_path / "city.db"
    (tmp_path / "city.db.before-restore-1").touch()
    (tmp_path / "city.db.before-restore-1-2").touch()
    assert _free_name(database, "before-restore-1").name == "city.db.before-restore-1-3"
    assert _free_name(database, "before-restore-9").name == "city.db.before-restore-9"
