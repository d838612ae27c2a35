"""The demo's residents' reports (群众求助): two residents report one snowed-in gate, a
third a spot a dispatcher dismisses; the dispatcher makes a task of the first, two cadres
clear it, and both residents hear it."""

from __future__ import annotations

import re

from snowbot.service import Snowbot
from snowbot.tools.demo.cast import Cast, SimClock, Transcript
from snowbot.tools.standin import BotApiStandIn, Sent, SimUser

RESIDENTS = (
    SimUser(30_001, "居民刘阿姨", "zh"),
    SimUser(30_002, "Resident Ivanova", "en"),
    SimUser(30_003, "居民小赵", "zh"),
)


def _button(sent: Sent, prefix: str) -> str:
    """The callback data of the report button whose data starts with `prefix`."""
    return str(
        next(b["callback_data"] for b in sent.buttons if b["callback_data"].startswith(prefix))
    )


async def _alarm(api: BotApiStandIn, chat: int, ref: str) -> Sent:
    """The report as it reached the dispatcher (through the outbox)."""
    found: list[Sent] = await api.wait_for(
        lambda: [s for s in api.sent[chat] if f"{ref}：" in s.text or f"{ref}:" in s.text]
    )
    return found[0]


async def residents_reports(
    api: BotApiStandIn,
    bot: Snowbot,
    clock: SimClock,
    cast: Cast,
    say: Transcript,
    cadres: list[SimUser],
) -> None:
    district, dispatcher = next(iter(cast.dispatchers.items()))
    streets = [s for s in bot.directory.streets if s.district == district]
    gate, other = streets[0], streets[-1]
    auntie, visitor, young = RESIDENTS

    text = "/report 小区门口积雪过膝，老人出不了门"
    say.said(auntie, text, await api.ask(auntie, text))
    say.said(
        auntie, f"📍 ({gate.lat:.4f}, {gate.lon:.4f})", await api.locate(auntie, gate.lat, gate.lon)
    )
    say.said(visitor, "/report", await api.ask(visitor, "/report"))
    lat, lon = gate.lat + 0.0004, gate.lon  # 45 m away: the same gate
    say.said(visitor, f"📍 ({lat:.4f}, {lon:.4f})", await api.locate(visitor, lat, lon))
    say.said(young, "/report", await api.ask(young, "/report"))
    say.said(
        young,
        f"📍 ({other.lat:.4f}, {other.lon:.4f})",
        await api.locate(young, other.lat, other.lon),
    )

    first = await _alarm(api, dispatcher.id, "#R1")
    second = await _alarm(api, dispatcher.id, "#R2")
    say.line(f"   🤖 → {dispatcher.first_name}: " + first.text.replace("\n", "\n      "))
    listed = await api.ask(dispatcher, "/reports")
    say.said(dispatcher, "/reports", listed)
    made = await api.answer(await api.press(dispatcher, first, _button(first, "r1|m|")))
    say.line(f"👤 {dispatcher.first_name} presses «Make task #R1» → {made['text']}")
    dismissed = await api.answer(await api.press(dispatcher, second, _button(second, "r1|n|")))
    say.line(f"👤 {dispatcher.first_name} presses «Dismiss #R2» → {dismissed['text']}")
    task_id = int(re.findall(r"#(\d+)", made["text"])[-1])  # "… #R1 … #12。"

    clock.advance(minutes=5)
    for cadre in cadres:  # back on duty at the gate (a new shift of one), then the task
        say.said(
            cadre,
            f"📍 ({gate.lat:.4f}, {gate.lon:.4f})",
            await api.locate(cadre, gate.lat, gate.lon),
        )
        say.said(cadre, f"/accept {task_id}", await api.ask(cadre, f"/accept {task_id}"))
    clock.advance(minutes=40)
    say.said(cadres[0], f"/done {task_id}", await api.ask(cadres[0], f"/done {task_id}"))
    for resident, words in ((auntie, "清扫完毕"), (visitor, "was cleared"), (young, "暂不安排")):
        told = await _told(api, resident, words)
        say.line(f"   🤖 → {resident.first_name}: {told.text}")


async def _told(api: BotApiStandIn, resident: SimUser, words: str) -> Sent:
    """The message to a resident that says `words` (it comes through the outbox)."""
    found: list[Sent] = await api.wait_for(
        lambda: [s for s in api.sent[resident.id] if words in s.text]
    )
    return found[0]
