"""Chinese replies read as Chinese: every zh message, rendered with sample values, has no
Latin words but command names, config keys and the few names the product gives."""

from __future__ import annotations

import re

import pytest

from snowbot.text.texts import catalog, placeholders

# Chinese sample values: what a reply carries in a Chinese city
SAMPLES: dict[str, object] = {
    "street": "中央街",
    "district": "爱辉区",
    "city": "黑河",
    "name": "王芳",
    "incident": "黑河 2026-11-26",
    "title": "爱辉区除雪群",
    "role": "调度员",
    "text": "中央大街",
    "query": "黑河学院",
    "note": "学校门口结冰",
    "file": "shifts.csv",
    "known": "爱辉区、北安市",
    "suggestions": "• 中央街（爱辉区）",
    "duration": "2 小时 5 分钟",
    "waited": "30 分钟",
    "left": "15 分钟",
    "distance": "350 米",
    "status": "待认领",
    "task": "#12 中央街（爱辉区）— 0/3 人，待认领",
    "busiest": "出动最多的区县：爱辉区（120 人次）",
    "help": "您可以：",
    "day": "2026-11-26",
    "since": "11-25 20:00",
    "until": "11-26 20:00",
    "time": "14:30",
    "value": "三",
}
# Latin words a Chinese reader meets as they are: commands and their arguments (stripped
# below), config keys, and names
ALLOWED = {"Telegram", "ID", "CSV", "snowbot", "zh", "en", "all", "N"}
# ... and the lines `snowbot play` reads, which are typed as they are: `甲 in 群名: …`,
# `wait 2h`, `tally`, `quit`
ALLOWED |= {"play", "in", "wait", "h", "tally", "quit"}
COMMAND = re.compile(r"/[a-z_]+(?: (?:zh|en|all))?")
CONFIG_KEY = re.compile(r"\[[a-z_]+\](?: [a-z_]+)?|\b[a-z_]+\.csv\b")
LATIN_WORD = re.compile(r"[A-Za-z]+")


def rendered(key: str) -> str:
    zh = catalog("zh")
    values = {name: SAMPLES.get(name, 3) for name in placeholders(zh.texts[key])}
    return zh(key, **values)


@pytest.mark.parametrize("key", sorted(catalog("zh").texts))
def test_a_chinese_message_has_no_stray_english(key: str) -> None:
    text = rendered(key)
    assert text != key
    bare = CONFIG_KEY.sub("", COMMAND.sub("", text))
    stray = [word for word in LATIN_WORD.findall(bare) if word not in ALLOWED]
    assert not stray, f"{key}: {stray} in {text!r}"
    assert ", " not in bare, f"{key}: a Latin comma where 、 or ， belongs: {text!r}"


def test_one_word_for_each_act() -> None:
    """签到 / 签退 / 值守; no 上岗, 下岗 ("laid off"), 在岗, 班次; volunteers are not 干部."""
    everything = "\n".join(rendered(key) for key in catalog("zh").texts)
    for word in ("上岗", "下岗", "在岗", "班次", "干部", "参与"):
        assert word not in everything, word
    assert catalog("zh")("button.accept") == "✋ 认领"
    assert catalog("zh")("button.done") == "✅ 完成"


def test_the_check_finds_what_it_is_for() -> None:
    """The test above would catch the leaks it was written for."""
    leaked = "只有dispatcher及以上才能这样做。 • 中央街（爱辉区）— id 1"
    bare = CONFIG_KEY.sub("", COMMAND.sub("", leaked))
    assert [w for w in LATIN_WORD.findall(bare) if w not in ALLOWED] == ["dispatcher", "id"]
