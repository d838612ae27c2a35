"""A dispatcher's and a cadre's first hour, in Chinese, through the real bot: the words
people actually type, and replies with no English in them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from snowbot.settings.config import Config
from snowbot.tools.standin import BotApiStandIn, SimUser
from tests.harness import SAMPLE_CSV, bot_config, running_bot, stand_in

COORD = SimUser(1, "王协调", "zh")
DISPATCH = SimUser(50, "李调度", "zh")
CADRE = SimUser(10, "赵队员", "zh")
GROUP = -100500
CENTRAL = (50.23896, 127.47865)  # 中央街, 爱辉区


@pytest.fixture
async def api(config: Config, caplog: pytest.LogCaptureFixture) -> AsyncIterator[BotApiStandIn]:
    async with stand_in() as api, running_bot(bot_config(config, api, SAMPLE_CSV)):
        api.group(GROUP, "爱辉区除雪群")
        yield api
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def test_chinese_command_words(api: BotApiStandIn) -> None:
    granted = await api.ask(COORD, f"/grant {DISPATCH.id} 调度员 爱辉")
    assert granted.text.startswith(f"用户 {DISPATCH.id} 现在是爱辉区的调度员。\n")
    assert "从未给机器人发过消息" in granted.text  # not written yet: nobody told (SPEC §14)
    whole = await api.ask(COORD, "/bind 全市", chat_id=GROUP)
    assert whole.text == "本群将接收全市通报。"
    started = await api.ask(COORD, "/incident 开始 第二场雪")
    assert started.text.startswith("新的应急响应：第二场雪。")
    assert (await api.ask(COORD, "/incident")).text.startswith("当前应急响应：第二场雪")


async def test_a_refusal_names_the_role_in_chinese(api: BotApiStandIn) -> None:
    refused = await api.ask(CADRE, "/newtask 中央街 3")
    assert refused.text == "只有调度员及以上才能这样做。"
    refused = await api.ask(CADRE, "/grant 5 调度员")
    assert refused.text == "只有协调员及以上才能这样做。"


async def test_chinese_numerals_are_counts(api: BotApiStandIn) -> None:
    await api.ask(COORD, f"/grant {DISPATCH.id} 调度员")
    posted = await api.ask(DISPATCH, "/newtask 中央街 三 结冰")
    assert "0/3 人" in posted.text and "备注：结冰" in posted.text
    fifteen = await api.ask(DISPATCH, "/newtask 王肃街 十五")
    assert "0/15 人" in fifteen.text
    two = await api.ask(DISPATCH, "/newtask 海兰街 两 路口")
    assert "0/2 人" in two.text and "备注：路口" in two.text
    # digits of another script are refused, not read
    other = await api.ask(DISPATCH, "/newtask 中央街 ٣")
    assert "不是有效人数" in other.text
    team = await api.ask(CADRE, "/checkin 五")
    assert "人数：5" in team.text


async def test_plain_words_check_in_and_out(api: BotApiStandIn) -> None:
    asked = await api.ask(CADRE, "签到")
    assert "发送位置" in asked.text and "人数：1" in asked.text
    assert asked.reply_markup and asked.reply_markup["keyboard"][0][0]["request_location"]
    team = await api.ask(CADRE, "签到 5")
    assert "人数：5" in team.text
    # a street typed where the location was asked for is told what to do, with the button
    typed = await api.ask(CADRE, "中央街")
    assert "请点击下方按钮发送您的位置" in typed.text
    assert typed.reply_markup and typed.reply_markup["keyboard"][0][0]["request_location"]
    opened = await api.locate(CADRE, *CENTRAL)
    assert opened.text.startswith("✅ 已签到：5 人，位于爱辉区中央街")
    out = await api.ask(CADRE, "签退")
    assert out.text.startswith("👋 已签退") and "5 人" in out.text
    english = await api.ask(SimUser(11, "Tom", "en"), "check in")
    assert "Share your location" in english.text


async def test_a_bound_dispatcher_sees_their_district_first(api: BotApiStandIn) -> None:
    await api.ask(COORD, f"/grant {DISPATCH.id} 调度员 爱辉区")
    own = await api.ask(DISPATCH, "/tally")
    assert "爱辉区" in own.text and "北安市" not in own.text
    city = await api.ask(DISPATCH, "/tally 全市")
    assert "爱辉区" in city.text and "北安市" in city.text
    prefix = await api.ask(COORD, "/unserved 北安")
    assert "北安市" in prefix.text and "爱辉区" not in prefix.text
    unknown = await api.ask(COORD, "/tally 火星")
    assert unknown.text.startswith("没有名为“火星”的区县")
    whole = (await api.ask(COORD, "/tally")).text  # a coordinator: the city
    assert "爱辉区" in whole and "北安市" in whole


async def test_suggestions_and_lists_read_as_chinese(api: BotApiStandIn) -> None:
    unknown = await api.ask(COORD, "/newtask 中央大道")
    # in a private chat the streets it may mean are listed, each a button (SPEC §13)
    assert unknown.text.startswith(
        "没有名为“中央大道”的街道。您要找的是下面哪一条？点一下按钮即发布需要 1 人的任务。\n"
        "• 中央街（爱辉区，街道编号 "
    )
    assert unknown.reply_markup and unknown.reply_markup["inline_keyboard"][0][0]["text"] == (
        "📍 中央街（爱辉区）"
    )
    assert "id" not in unknown.text
    district = await api.ask(COORD, "/tally 火星")
    assert "爱辉区、" in district.text and ", " not in district.text
    english = await api.ask(SimUser(2, "Tom", "en"), "/lang en")
    assert english.text == "Language: English."


async def test_the_same_task_twice_asks_before_posting(api: BotApiStandIn) -> None:
    await api.ask(COORD, f"/grant {DISPATCH.id} 调度员 爱辉区")
    first = await api.ask(DISPATCH, "/newtask 中央街 3 结冰")
    assert first.text.startswith("🆕 任务已发布")
    again = await api.ask(DISPATCH, "/newtask 中央街 3 结冰")
    assert again.text.startswith("⚠️ 1 分钟内刚发布过中央街的任务：\n#1 中央街")
    assert "确实还要再发布一个需要 3 人的任务吗？" in again.text
    assert "#2" not in again.text
    other = await api.ask(DISPATCH, "/newtask 王肃街 2")  # another street: no question
    assert other.text.startswith("🆕 任务已发布") and "#2" in other.text
    answer = await api.click(DISPATCH, again, "发布在中央街")
    assert "#3" in answer["text"] or "#3" in (await api.reply(DISPATCH.id, 0)).text
    await api.wait_for(lambda: any("#3 中央街" in s.text for s in api.sent[DISPATCH.id]))


async def test_an_urgent_task_says_so_everywhere(api: BotApiStandIn) -> None:
    await api.ask(COORD, f"/grant {DISPATCH.id} 调度员 爱辉区")
    await api.ask(DISPATCH, "/bind 爱辉区", chat_id=GROUP)
    await api.ask(DISPATCH, "/newtask 王肃街 2")
    await api.wait_for(lambda: any("#1 " in s.text for s in api.sent[GROUP]))
    before = api.count(GROUP)
    posted = await api.ask(DISPATCH, "/newtask ! 中央街 3 医院通道")
    assert posted.text.startswith("🆕 任务已发布：\n🚨急 #2 中央街")
    announced = await api.reply(GROUP, before)
    assert "🚨急 #2" in announced.text
    listed = await api.ask(CADRE, "/tasks")
    assert listed.text.index("#2") < listed.text.index("#1")
