"""Counts as people type them: "3", "３", "三", "两", "俩", "十五", "一百", "3人", "五名".

Dispatchers write `/newtask 中央街 三 结冰` as readily as `/newtask 中央街 3 结冰`, and a
count of people often carries its measure word: 3人, 两名, 五个人 (docs/commands.md "Chinese as
people type it").
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CHINESE = re.compile(r"[零〇一二两三四五六七八九十百]+")


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral up to 999 (十五, 二十三, 一百零五), or None."""
    if not _CHINESE.fullmatch(text) or text in ("零", "〇"):
        return None
    total, digit = 0, None
    for i, char in enumerate(text):
        if char in _DIGITS:
            if digit is not None:  # two digits in a row: "三五" is no number
                return None
            digit = _DIGITS[char]
        elif char == "十":
            if total % 100 >= 10 or (digit is None and i > 0):
                return None
            total += (1 if digit is None else digit) * 10
            digit = None
        else:  # 百
            if digit is None or total:
                return None
            total, digit = digit * 100, None
            if text[i + 1 : i + 2] in ("零", "〇"):  # 一百零五
                if i + 3 != len(text):
                    return None
                return total + _DIGITS.get(text[i + 2 : i + 3], -1000)
    if digit is not None:
        total += digit
    return total or None


# what may follow a count of people: 3人, 两名, 五个人 (longest first)
PEOPLE_WORDS = ("个人", "人", "名")


def _without_people_word(text: str) -> str:
    for word in PEOPLE_WORDS:
        if text.endswith(word) and len(text) > len(word):
            return text[: -len(word)]
    return text


def count_text(text: str) -> str:
    """`text` as ASCII digits when it is a count written another way; else `text` unchanged.

    Full-width digits (３) become ASCII, Chinese numerals their value (俩 is 2), and a
    trailing 人, 名 or 个人 is dropped; other scripts' digits (١٢٣) are not read, so they
    are refused rather than taken for a number.
    """
    folded = _without_people_word(unicodedata.normalize("NFKC", text.strip()))
    if re.fullmatch(r"[0-9]+", folded):
        return folded
    if folded in ("零", "〇"):  # a count, and no count of people: refused as 0
        return "0"
    value = 2 if folded == "俩" else chinese_number(folded)
    return str(value) if value is not None else text


def is_count(text: str) -> bool:
    """Whether `text` is a count as people type it (its value may still be out of range)."""
    return count_text(text) != text or re.fullmatch(r"[0-9]+", text) is not None


# -- large counts as a city's bulletin writes them ("全市累计出动5.6万余人次") -------------

WAN = 10_000
YI = 100_000_000


def bulletin_zh(count: int) -> tuple[str, bool]:
    """A count in 万 (or 亿) floored to one decimal, and whether anything was floored off
    (then a bulletin adds 余): 55,998 → ("5.5万", True), 56,000 → ("5.6万", False),
    1,000,000 → ("100万", False). Below 1万 the exact number: 9,999 → ("9999", False)."""
    if count < WAN:
        return str(count), False
    unit, name = (YI, "亿") if count >= YI else (WAN, "万")
    tenths = count * 10 // unit
    whole, tenth = divmod(tenths, 10)
    figure = f"{whole}.{tenth}" if tenth else str(whole)
    return figure + name, tenths * unit // 10 != count


def bulletin_en(count: int) -> tuple[str, bool]:
    """The same rule in English figures: floored to the thousand (one decimal of 万; of 亿
    from 100 million), and whether anything was floored off (then "over"): 55,998 →
    ("55,000", True), 56,000 → ("56,000", False); below 10,000 the exact number."""
    if count < WAN:
        return f"{count:,}", False
    step = (YI if count >= YI else WAN) // 10
    floored = count // step * step
    return f"{floored:,}", floored != count
