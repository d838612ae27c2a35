"""Counts as people type them: "3", "３", "三", "两", "十五", "二十", "一百".

Dispatchers write `/newtask 中央街 三 结冰` as readily as `/newtask 中央街 3 结冰`.
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


def count_text(text: str) -> str:
    """`text` as ASCII digits when it is a count written another way; else `text` unchanged.

    Full-width digits (３) become ASCII; other scripts' digits (١٢٣) do not, so they are
    refused rather than read.
    """
    folded = unicodedata.normalize("NFKC", text.strip())
    if re.fullmatch(r"[0-9]+", folded):
        return folded
    value = chinese_number(folded)
    return str(value) if value is not None else text
