"""Chinese as people type it (SPEC §13), through the real bot: a table of typed inputs and
what each must mean -- counts, measure words, full-width digits, homophones, leading parts,
and the words of a private chat."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from snowbot.service import Snowbot
from snowbot.settings.config import Config
from snowbot.text.texts import catalog
from snowbot.tools.standin import BotApiStandIn, Sent, SimUser
from tests.harness import (
    SAMPLE_CSV,
    bot_config,
    no_errors,
    person,
    running_bot,
    said,
    stand_in,
    task_of,
)

pytestmark = pytest.mark.both_engines

COORD = SimUser(1, "王协调", "zh")
CADRE = SimUser(10, "赵队员", "zh")
NEAR_XUEFU = (50.2583, 127.4865)  # beside 学府路, 爱辉区


def opening(key: str) -> str:
    """A zh reply's words before its first value: enough to know which reply it is."""
    return catalog("zh").texts[key].split("{", 1)[0]


@dataclass
class Turn:
    """What the table's checks see: the bot, the stand-in, the reply, who spoke."""

    bot: Snowbot
    api: BotApiStandIn
    answer: Sent
    user: SimUser


Check = Callable[[Turn], Awaitable[None]]


def posted(street: str, needed: int, note: str = "") -> Check:
    async def check(turn: Turn) -> None:
        found = re.search(r"#(\d+)", turn.answer.text)
        assert found, turn.answer.text
        task = await task_of(turn.bot, int(found.group(1)))
        assert task is not None
        assert (task.street, task.needed, task.note) == (street, needed, note)

    return check


def suggests(first: str, *others: str, read: str, never: str = "") -> Check:
    """Buttons, best first, that post on the street; the reply quotes only the name read."""

    async def check(turn: Turn) -> None:
        labels = [b["text"] for b in turn.answer.buttons]
        assert labels and first in labels[0], labels
        assert all(any(o in label for label in labels) for o in others), labels
        assert f"“{read}”" in turn.answer.text, turn.answer.text
        assert not never or never not in turn.answer.text.split("\n")[0], turn.answer.text

    return check


def replied(key: str, **params: object) -> Check:
    async def check(turn: Turn) -> None:
        expected = said(key, "zh", **params) if params else opening(key)
        assert turn.answer.text.startswith(expected), (turn.answer.text, expected)

    return check


def asked_checkin(count: int) -> Check:
    return replied("checkin.ask", count=count)


def invited(district: str | None, uses: int, hours: int) -> Check:
    async def check(turn: Turn) -> None:
        coordinator = await person(turn.bot, turn.user.id)
        live = await turn.bot.invitations(coordinator)
        newest = next(i for i in live if f"start={i.code}" in turn.answer.text)
        name = turn.bot.district_name(newest.district_id)
        lasts = round((newest.expires_at - newest.created_at) / 3600)
        assert (name, newest.uses, lasts) == (district, uses, hours)
        assert (district or "不限区县") in turn.answer.text  # "invite.no_district"

    return check


def in_unit(unit: str) -> Check:
    async def check(turn: Turn) -> None:
        choice = await turn.bot.unit_choice(await person(turn.bot, turn.user.id))
        assert choice.current is not None and choice.current.name == unit, choice.current

    return check


def unit_like(unit: str) -> Check:
    async def check(turn: Turn) -> None:
        assert turn.answer.text.startswith(opening("unit.unknown")), turn.answer.text
        assert unit in turn.answer.text
        assert turn.answer.buttons and turn.answer.buttons[0]["text"] == unit

    return check


# (who, what they type, what it must mean); "{学府路}" stands for that street's task's id
TABLE: list[tuple[SimUser, str, Check]] = [
    # counts: numerals, measure words, full-width digits
    (COORD, "/newtask 学府路 3人 人行道", posted("学府路", 3, "人行道")),
    (COORD, "/newtask 东兴路 俩", posted("东兴路", 2)),
    (COORD, "/newtask 中央街 三", posted("中央街", 3)),
    (COORD, "/newtask 海兰街 十五 路口", posted("海兰街", 15, "路口")),
    (COORD, "/newtask 通江路 一百零五", posted("通江路", 105)),
    (COORD, "/newtask 文化街 ３", posted("文化街", 3)),
    (COORD, "/newtask 兴安街 ４人", posted("兴安街", 4)),
    (COORD, "/newtask 邮政街 两名 结冰", posted("邮政街", 2, "结冰")),
    (COORD, "/newtask 大兴街 五个人", posted("大兴街", 5)),
    (COORD, "/newtask 南岗路 4 人 医院门口", posted("南岗路", 4, "医院门口")),
    (COORD, "/newtask 和平路 二十", posted("和平路", 20)),
    (COORD, "/newtask 铁西路 0人", replied("newtask.bad_count", value="0", max=500)),
    (COORD, "/newtask 北岗路 零", replied("newtask.bad_count", value="0", max=500)),
    # names: homophones and near-homophones, the name read and nothing else
    (COORD, "/newtask 学服路 2", suggests("学府路", read="学服路")),
    (COORD, "/newtask 金安路 2 路面结冰", suggests("锦安路", read="金安路", never="结冰")),
    (COORD, "/newtask 王素街 2", suggests("王肃街", read="王素街")),
    (COORD, "/newtask 龙宾路 2", suggests("龙滨路", read="龙宾路")),
    (COORD, "/newtask 兆林大街 两人", suggests("兆麟大街", read="兆林大街")),
    (COORD, "/newtask 庆化路 3", suggests("庆华路", read="庆化路")),
    (COORD, "/newtask 海蓝 2", suggests("海兰街", "海兰东街", read="海蓝")),
    (COORD, "/newtask 喀什噶尔 2 结冰", replied("typed.no_street", text="喀什噶尔")),
    (COORD, "/newtask Qwertyuiop", replied("typed.no_street", text="Qwertyuiop")),
    # a leading part only one street has
    (COORD, "/newtask 长青 2", posted("长青路", 2)),
    (COORD, "/newtask 爱辉 新兴 三 积雪", posted("新兴街", 3, "积雪")),
    (COORD, "/newtask 新华 2", suggests("新华街", "新华路", read="新华")),
    # districts and units by writing and by sound
    (COORD, "/invite 爱辉区 三十 12", invited("爱辉区", 30, 12)),
    (COORD, "/invite 北安 两 3", invited("北安市", 2, 3)),
    (COORD, "/invite 五 2", invited(None, 5, 2)),
    (
        COORD,
        "/invite 爱会区 5",
        replied("typed.district_like", district="爱会区", suggestions="爱辉区"),
    ),
    (CADRE, "/unit 爱辉区城关局", unit_like("爱辉区城管局")),
    (CADRE, "/unit 爱辉区交通", in_unit("爱辉区交通运输局")),
    # any other text: the words the bot knows, unless a check-in waits for its location
    (CADRE, "你好", replied("typed.hint")),
    (CADRE, "任务很多", replied("typed.hint")),
    # check-in counts
    (CADRE, "/checkin 25人", asked_checkin(25)),
    (CADRE, "签到 25人", asked_checkin(25)),
    (CADRE, "签到 25 人", asked_checkin(25)),
    (CADRE, "签到 三名", asked_checkin(3)),
    (CADRE, "签到 俩", asked_checkin(2)),
    (CADRE, "签到 ５", asked_checkin(5)),
    (CADRE, "/checkin 十五", asked_checkin(15)),
    (CADRE, "/checkin 12 名", asked_checkin(12)),
    (CADRE, "/checkin 0人", replied("checkin.bad_count", value="0", max=500)),
    (CADRE, "中央街", replied("checkin.plain_text")),  # typed where the location was asked
    # words in a private chat (the cadre checks in with 5 between these rows and those below)
    (CADRE, "帮助", replied("help_lines.head_cadre")),
]
ON_DUTY: list[tuple[SimUser, str, Check]] = [
    (CADRE, "任务", replied("tasks.header")),
    (CADRE, "认领 {学府路} 2", replied("places.taken")),
    (CADRE, "退回 {学府路} 1", replied("places.released")),
    (CADRE, "认领{学府路} 1", replied("places.taken")),
    (CADRE, "完成 {学府路} 已清完", replied("done.ok")),
    (COORD, "统计", replied("tally.header")),
    (CADRE, "签退", replied("checkout.done")),
    (CADRE, "求助", replied("residents.ask")),
]


async def test_typed_inputs_mean_what_people_mean(
    config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert len(TABLE) + len(ON_DUTY) >= 40
    city = tmp_path / "heihe.csv"  # the sample city and one street to mistype by sound
    city.write_text(SAMPLE_CSV.read_text("utf-8") + "爱辉区,锦安路,50.2450,127.4800,\n", "utf-8")
    failures = []
    async with stand_in() as api, running_bot(bot_config(config, api, city)) as running:
        bot = running.service
        await api.ask(CADRE, "/start")
        tasks: dict[str, int] = {}
        for user, text, check in TABLE:
            answer = await api.ask(user, text)
            found = re.search(r"#(\d+) (\S+)", answer.text)
            if found and text.startswith("/newtask"):
                tasks.setdefault(found.group(2).split("（")[0], int(found.group(1)))
            try:
                await check(Turn(bot, api, answer, user))
            except AssertionError:
                failures.append(f"{text!r} → {answer.text[:120]!r}")
        await api.ask(CADRE, "签到 5")
        on_duty = await api.locate(CADRE, *NEAR_XUEFU)
        assert on_duty.text.startswith(opening("checkin.opened")), on_duty.text
        for user, text, check in ON_DUTY:
            typed = text.format_map(tasks)
            answer = await api.ask(user, typed)
            try:
                await check(Turn(bot, api, answer, user))
            except AssertionError:
                failures.append(f"{typed!r} → {answer.text[:120]!r}")
    assert not failures, "\n".join(failures)
    no_errors(caplog, api)


async def test_a_suggestion_button_posts_the_task_as_typed(config: Config, tmp_path: Path) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, SAMPLE_CSV)) as running:
        answer = await api.ask(COORD, "/newtask 学服路 3人 人行道结冰")
        data = answer.button("学府路")["callback_data"]
        pressed = await api.click(COORD, answer, "学府路")
        assert pressed["text"].startswith(opening("newtask.posted_short"))
        task = await task_of(running.service, 1)
        assert task is not None
        assert (task.street, task.needed, task.note) == ("学府路", 3, "人行道结冰")
        # the press posts once: pressed again, the proposal is gone
        again = await api.answer(await api.press(COORD, answer, data))
        assert again["text"] == said("newtask.proposal_gone", "zh")
        assert await task_of(running.service, 2) is None


async def test_in_a_group_the_suggestions_are_a_list_without_buttons(
    config: Config, tmp_path: Path
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, SAMPLE_CSV)):
        api.group(-100500, "爱辉区除雪群")
        answer = await api.ask(COORD, "/newtask 学服路 2 结冰", chat_id=-100500)
        assert answer.text.startswith(opening("newtask.unknown_street"))
        assert "学府路" in answer.text and "结冰" not in answer.text
        assert not answer.buttons


async def test_a_unit_suggested_by_sound_is_joined_with_one_press(config: Config) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, SAMPLE_CSV)) as running:
        await api.ask(CADRE, "/start")
        answer = await api.ask(CADRE, "/unit 北安市城关局")  # 管 typed as 关: guan, both
        pressed = await api.click(CADRE, answer, "北安市城管局")
        assert pressed["text"] == said("unit.joined", "zh", unit="北安市城管局")
        me = await person(running.service, CADRE.id)
        choice = await running.service.unit_choice(me)
        assert choice.current is not None and choice.current.name == "北安市城管局"


async def test_a_district_suggested_by_sound_finishes_the_invite_with_one_press(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    async with stand_in() as api, running_bot(bot_config(config, api, SAMPLE_CSV)) as running:
        answer = await api.ask(COORD, "/invite 爱会区 三十 12")  # 会 for 辉: hui, both
        assert answer.text.startswith(opening("typed.district_like"))
        data = answer.button("爱辉区")["callback_data"]
        before = api.count(COORD.id)
        await api.click(COORD, answer, "爱辉区")
        made = await api.reply(COORD.id, before)
        assert made.text.startswith(opening("invite.made"))
        check = invited("爱辉区", 30, 12)
        await check(Turn(running.service, api, made, COORD))
        # forged: an unknown district, or uses beyond the limit; nothing is made
        coordinator = await person(running.service, COORD.id)
        for forged in ("i1|999|5|5", data.replace("|30|", "|9999|"), "i1|1|5"):
            answer_to = await api.answer(await api.press(COORD, answer, forged))
            assert answer_to.get("show_alert"), forged
        assert len(await running.service.invitations(coordinator)) == 1
    no_errors(caplog, api)
