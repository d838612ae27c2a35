"""Words typed in a private chat instead of commands (docs/commands.md "Chinese as people type
it"): 签到 [N], 签退, 认领 ID [N], 退回 ID [N], 完成 ID [备注], 任务, 统计, 帮助 do what their
commands do (求助 is the residents' own: `handlers.residents`); any other text gets a short hint
that lists them."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from handlers import places, reports, start, tasks
from handlers.common import Context

Command = Callable[[Update, Context], Coroutine[Any, Any, None]]

# word → (its command, whether words may follow it)
WORDS: dict[str, tuple[Command, bool]] = {
    "认领": (tasks.accept, True),
    "退回": (places.release, True),
    "完成": (tasks.done, True),
    "任务": (tasks.tasks, False),
    "统计": (reports.tally, False),
    "帮助": (start.help_command, False),
}
# a word, then what follows it, spaced or not: "认领 5 2", "认领5", "完成 3 已清完"
_WORD = re.compile(r"(\S{2})\s*(.*)", re.S)
_END = "。.!！?？"


def read(text: str) -> tuple[str, list[str]] | None:
    """(word, the words after it) when `text` starts with one of WORDS or 求助, else None."""
    match = _WORD.fullmatch(text.strip().rstrip(_END))
    if match is None:
        return None
    word, rest = match.group(1), match.group(2).split()
    if word == "求助" or (word in WORDS and (WORDS[word][1] or not rest)):
        return word, rest
    return None


async def run(update: Update, context: Context, word: str, rest: list[str]) -> None:
    """Do what the word's command does, as if `/command REST` had been sent."""
    context.args = rest
    await WORDS[word][0](update, context)
