"""The demo's small storm, told as the people would live them (a day in a few hundred
messages), its set-up and its close; the seed storm (six days) is in `seed`."""

from __future__ import annotations

import random

from snowbot.service import Snowbot
from snowbot.text.texts import catalog
from snowbot.tools.demo.cast import (
    COORDINATOR,
    Cast,
    SimClock,
    SteppedBot,
    Transcript,
)
from snowbot.tools.demo.residents import residents_reports
from snowbot.tools.standin import BotApiStandIn, Sent, SimUser


async def set_up(api: BotApiStandIn, bot: Snowbot, say: Transcript) -> Cast:
    say.line("— Set-up: the coordinator appoints a dispatcher per district —")
    say.said(COORDINATOR, "/start", await api.ask(COORDINATOR, "/start"), first_line_only=True)
    districts = sorted(bot.directory.districts)
    dispatchers: dict[str, SimUser] = {}
    groups: dict[str, int] = {}
    for i, district in enumerate(districts):
        user = SimUser(2001 + i, f"{district}调度", "zh" if i % 2 == 0 else "en")
        # Chinese command words for the Chinese-speaking, as people type them
        text = f"/grant {user.id} 调度员 {district}"
        say.said(COORDINATOR, text, await api.ask(COORDINATOR, text))
        say.said(user, "/start", await api.ask(user, "/start"), first_line_only=True)
        group_id = -1_000_000 - i
        api.group(group_id, f"{district}除雪群")
        text = f"/bind {district}"
        say.said(user, f"{text}   (in {district}除雪群)", await api.ask(user, text, group_id))
        dispatchers[district] = user
        groups[district] = group_id
    hq = -2_000_000
    api.group(hq, "市除雪指挥部")
    say.said(
        COORDINATOR, "/bind 全市   (in 市除雪指挥部)", await api.ask(COORDINATOR, "/bind 全市", hq)
    )
    return Cast(dispatchers, groups, hq)


def near(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    """A spot within about 150 m of a street."""
    return lat + rng.uniform(-0.0012, 0.0012), lon + rng.uniform(-0.0018, 0.0018)


async def post_tasks(
    api: BotApiStandIn,
    bot: Snowbot,
    cast: Cast,
    rng: random.Random,
    per_district: int,
    say: Transcript | None,
) -> list[tuple[int, str]]:
    """Each dispatcher posts tasks on random streets of their district: (task id, district)."""
    posted: list[tuple[int, str]] = []
    for district, user in cast.dispatchers.items():
        streets = [s for s in bot.directory.streets if s.district == district]
        for street in rng.sample(streets, min(per_district, len(streets))):
            note = rng.choice(_NOTES)
            urgent = "! " if note == "医院通道优先" else ""  # the hospital's road goes first
            text = f"/newtask {urgent}{street.name} {rng.randint(2, 6)} {note}"
            answer = await api.ask(user, text)
            if say is not None:
                say.said(user, text, answer)
            task_id = _task_id(answer.text)
            if task_id is not None:
                posted.append((task_id, district))
    return posted


# the Accept button as each language labels it
ACCEPT_LABELS = (catalog("zh")("button.accept"), catalog("en")("button.accept"))
_NOTES = ["学校门口结冰", "公交站积雪", "坡道需撒盐", "医院通道优先", "人行道积雪", "路口清雪"]


def _task_id(text: str) -> int | None:
    for word in text.replace("\n", " ").split():
        if word.startswith("#") and word[1:].isdigit():
            return int(word[1:])
    return None


async def _scheduler(
    running: SteppedBot, api: BotApiStandIn, say: Transcript, watch: list[int]
) -> list[Sent]:
    """Run the scheduler's sweeps at this moment of the story; what they sent to `watch`."""
    before = {chat: api.count(chat) for chat in watch}
    swept = await running.tick()
    say.line(
        f"   ⏰ scheduler: {swept.reports} report(s), {swept.daily} day summary(ies), "
        f"{swept.escalations} escalation message(s), {swept.warnings} reminder(s), "
        f"{swept.closed} shift(s) closed"
    )
    return [sent for chat in watch for sent in api.sent[chat][before[chat] :]]


async def _units_set_up(api: BotApiStandIn, bot: Snowbot, say: Transcript) -> None:
    """Units (单位包保) before the shift: the gazetteer brought a few per district; the
    coordinator adds one, and two cadres find theirs by button and by name."""
    say.line("\n— Units: the gazetteer's, one more, and cadres choosing theirs —")
    text = "/unit 新增 黑河市应急管理局"
    say.said(COORDINATOR, text, await api.ask(COORDINATOR, text))
    chooser = SimUser(9_001, "队员甲", "zh")
    shown = await api.ask(chooser, "/unit")
    say.said(chooser, "/unit", shown)
    say.line(f"   🤖 [{len(shown.buttons)} buttons: {shown.buttons[0]['text']} …]")
    await api.click(chooser, shown, "▶")
    await api.wait_for(lambda: len(shown.edits) >= 1)
    label = shown.buttons[0]["text"]
    pressed = await api.click(chooser, shown, label)
    say.line(f"👤 {chooser.first_name} turns the page and presses «{label}» → {pressed['text']}")
    other = SimUser(9_002, "队员乙", "zh")
    say.said(other, "/unit 城管", await api.ask(other, "/unit 城管"))
    text = "/unit 爱辉区城管局"
    say.said(other, text, await api.ask(other, text))


async def small_storm(
    api: BotApiStandIn, running: SteppedBot, clock: SimClock, cast: Cast, say: Transcript
) -> int:
    bot = running.service
    rng = random.Random(2026)
    before = api.updates_pushed
    say.line("\n— 06:30 Dispatchers post the morning's tasks —")
    tasks = await post_tasks(api, bot, cast, rng, per_district=3, say=say)

    await _units_set_up(api, bot, say)

    say.line("\n— 07:00 Cadres and team leaders check in, most of them for their unit —")
    clock.advance(minutes=30)
    unit_names = {u.id: u.name for u in await bot.units()}
    crowd: list[SimUser] = []
    for i in range(150):
        user = SimUser(10_000 + i, f"队员{i + 1:03d}", "zh" if i % 3 else "en")
        street = rng.choice(bot.directory.streets)
        lat, lon = near(rng, street.lat, street.lon)
        if i % 4 and street.unit_id in unit_names:  # a cadre of the unit that answers there
            text = f"/unit {unit_names[street.unit_id]}"
            answer = await api.ask(user, text)
            if i < 3:
                say.said(user, text, answer)
        if i % 6 == 0:
            team = rng.randint(5, 25)
            team = 20 if i == 0 else team  # the leader who splits the team below
            answer = await api.ask(user, f"/checkin {team}")
            if i < 12:
                say.said(user, f"/checkin {team}", answer)
        answer = await api.locate(user, lat, lon)
        if i < 12 or i % 25 == 0:
            say.said(user, f"📍 ({lat:.4f}, {lon:.4f})", answer, first_line_only=i >= 12)
        crowd.append(user)
    say.line(f"   … {len(crowd)} people checked in")

    say.line("\n— 07:10 Cadres take tasks: by button and by /accept —")
    clock.advance(minutes=10)
    # one task nobody takes, for the scheduler to chase at 07:30
    neglected, neglected_district = tasks[-2]
    # someone presses Accept on a group announcement that still has places
    open_ones = [
        (s, b)
        for g in cast.groups.values()
        for s in api.sent[g]
        for b in s.buttons
        if b.get("text", "").startswith(ACCEPT_LABELS) and f"#{neglected} " not in s.text
    ]
    if open_ones:
        presser = crowd[1]
        announcement, button = open_ones[0]
        pressed = await api.click(presser, announcement, button["text"])
        say.line(
            f"👤 {presser.first_name} presses «{button['text']}» in the group → {pressed['text']}"
        )

    # a team leader sends part of the team to one task and the rest to another, tasks still
    # live this afternoon (the first two thirds are done at 11:00)
    split = [t for t in tasks[len(tasks) * 2 // 3 :] if t[0] != neglected][:2]
    leader = crowd[0]
    if len(split) == 2:
        say.line("   A team leader of 20 splits the team across two tasks:")
        for text in (f"/accept {split[0][0]} 2", f"/accept {split[1][0]}"):
            say.said(leader, text, await api.ask(leader, text))

    for n, (task_id, _) in enumerate(tasks):
        if task_id == neglected:
            continue
        joiners = rng.sample(crowd, 7)
        for k, user in enumerate(joiners):
            answer = await api.ask(user, f"/accept {task_id}")
            if n < 3 or (k == 6 and n < 6):
                say.said(user, f"/accept {task_id}", answer, first_line_only=True)
    say.line("\n— 07:30 The scheduler: one task nobody has taken for an hour —")
    clock.advance(minutes=20)
    watch = [cast.dispatchers[neglected_district].id, cast.groups[neglected_district]]
    for sent in await _scheduler(running, api, say, watch):
        say.line("   🤖 → " + sent.text.splitlines()[0] + " …")
    clock.advance(minutes=30)

    say.line("\n— 11:00 Tasks are reported done —")
    clock.advance(hours=3)
    for n, (task_id, district) in enumerate(tasks[: len(tasks) * 2 // 3]):
        user = cast.dispatchers[district]
        answer = await api.ask(user, f"/done {task_id} 已清扫")
        if n < 4:
            say.said(user, f"/done {task_id} 已清扫", answer)
    cancel_id, district = tasks[-1]
    canceller = cast.dispatchers[district]
    say.said(canceller, f"/cancel {cancel_id}", await api.ask(canceller, f"/cancel {cancel_id}"))

    say.line("\n— 12:00 The dispatchers look at their district —")
    clock.advance(hours=1)
    district, user = next(iter(cast.dispatchers.items()))
    say.said(user, "/tally", await api.ask(user, "/tally"))
    say.said(user, f"/unserved {district}", await api.ask(user, f"/unserved {district}"))
    say.said(user, "/units", await api.ask(user, "/units"))
    for sent in await _scheduler(running, api, say, [cast.hq_group]):
        say.line("   🤖 → 市除雪指挥部: " + "\n      ".join(sent.text.splitlines()[:5]) + " …")

    say.line("\n— 14:00 The first shifts end —")
    clock.advance(hours=2)
    # the leader's second task will have nobody: its dispatcher hears it is back in the pool
    # (and its group sees it again, as fast as Telegram lets a bot post in a group)
    told = cast.dispatchers[split[1][1]].id if len(split) == 2 else None
    told_before = api.count(told) if told is not None else 0
    for i, user in enumerate(crowd[::2]):
        answer = await api.ask(user, "/checkout")
        if i < 3:
            say.said(user, "/checkout", answer)
    say.line(f"   … {len(crowd[::2])} people checked out")
    if told is not None:
        back = await api.wait_for(
            lambda: [
                m
                for m in api.sent[told][told_before:]
                if m.text.startswith("🔁") and f"#{split[1][0]}（" in m.text
            ]
        )
        say.line(f"   🤖 → {split[1][1]}调度: {back[0].text}")

    say.line("\n— 14:45 and 15:00 Eight hours in the cold: a reminder, then the shift closes —")
    clock.advance(minutes=45)
    stayed = crowd[1::2]
    for sent in (await _scheduler(running, api, say, [stayed[0].id]))[:1]:
        say.line(f"   🤖 → {stayed[0].first_name}: {sent.text}")
    clock.advance(minutes=15)
    for sent in (await _scheduler(running, api, say, [stayed[0].id]))[:1]:
        say.line(f"   🤖 → {stayed[0].first_name}: {sent.text}")

    clock.advance(hours=1)
    say.line("\n— 16:00 Residents report snow blocking the way (群众求助) —")
    await residents_reports(api, bot, clock, cast, say, crowd[:2])

    before_docs = api.count(COORDINATOR.id)
    await api.say(COORDINATOR, "/export")
    # three CSVs and the Excel workbook (docs/commands.md "Chinese as people type it")
    await api.wait_for(lambda: api.count(COORDINATOR.id) >= before_docs + 4)
    for sent in api.sent[COORDINATOR.id][before_docs:]:
        name = sent.document or ""
        rows = api.documents.get(name, b"").count(b"\n") - 1
        shown = f"{name} ({rows} rows)" if name.endswith(".csv") else name
        say.line(f"👤 {COORDINATOR.first_name}: /export\n   🤖 📎 {shown}")

    say.line("\n— 20:00 The day's summary goes to the city HQ group —")
    clock.advance(hours=4)
    for sent in await _scheduler(running, api, say, [cast.hq_group]):
        if "日报" in sent.text:
            say.line("   🤖 → 市除雪指挥部: " + sent.text.replace("\n", "\n      "))
    return api.updates_pushed - before


async def close_storm(api: BotApiStandIn, say: Transcript) -> str:
    """The coordinator closes the incident: its closing report and CSVs arrive."""
    before = api.count(COORDINATOR.id)
    text = "/incident 结束"
    say.said(COORDINATOR, text, await api.ask(COORDINATOR, text))

    def documents() -> list[Sent]:
        return [s for s in api.sent[COORDINATOR.id][before:] if s.document]

    await api.wait_for(lambda: len(documents()) == 2, timeout=300)
    report = next(s.text for s in api.sent[COORDINATOR.id][before:] if s.text.startswith("📋"))
    files = []
    for sent in documents():
        rows = api.documents.get(sent.document or "", b"").count(b"\n") - 1
        files.append(f"   📎 {sent.document} ({rows} rows)")
    return "\n".join([report, *files])
