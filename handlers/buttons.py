"""Inline buttons: small, versioned callback data, validated before anything is trusted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from snowbot.domain.model import Task, TaskStatus
from snowbot.text.texts import Catalog

MAX_DATA = 64  # bytes of callback data Telegram keeps


class ButtonData:
    """Versioned callback data, "VERSION|ACTION|NUMBER" (a task's, report's or unit's id, or
    a page): short, and read back only when it matches exactly. A change of meaning is a
    new version, so a button left in an old message is refused rather than guessed at."""

    def __init__(self, version: str, actions: str) -> None:
        self.version = version
        self.actions = actions  # the one-letter actions this version knows
        # ASCII digits only: `\d` would also take "１", which int() reads as 1
        self._data = re.compile(rf"{re.escape(version)}\|([{actions}])\|([0-9]{{1,9}})")

    @property
    def pattern(self) -> str:
        """For PTB's CallbackQueryHandler: which presses are this codec's to read."""
        return rf"^{re.escape(self.version)}\|[{self.actions}]\|"

    def encode(self, action: str, number: int) -> str:
        return f"{self.version}|{action}|{number}"

    def decode(self, data: str | None) -> tuple[str, int] | None:
        """(action, number), or None for forged, stale or foreign data."""
        if not data or len(data.encode()) > MAX_DATA:
            return None
        match = self._data.fullmatch(data)
        return (match.group(1), int(match.group(2))) if match else None


VERSION = "v1"
ACCEPT, DONE, POST = "a", "d", "p"  # POST: confirm a geocoded /newtask (the id is the proposal's)
CONFIRM, REFUSE = "c", "r"  # a dispatcher on a large team's check-in (the id is the request's)
RELEASE = "l"  # give back all of the presser's places on the task (docs/commands.md "Places")
TASK_DATA = ButtonData(VERSION, ACCEPT + DONE + POST + CONFIRM + REFUSE + RELEASE)


@dataclass(frozen=True)
class Press:
    action: str
    task_id: int


def encode(action: str, task_id: int) -> str:
    return TASK_DATA.encode(action, task_id)


def decode(data: str | None) -> Press | None:
    """The button pressed, or None for forged, stale or foreign data."""
    read = TASK_DATA.decode(data)
    return Press(*read) if read else None


def task_buttons(t: Catalog, task: Task) -> InlineKeyboardMarkup | None:
    """Accept while places are free, Done while the task is live; none once it is closed."""
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return None
    row = []
    if task.accepted < task.needed:
        row.append(
            InlineKeyboardButton(
                f"{t('button.accept')} #{task.id}", callback_data=encode(ACCEPT, task.id)
            )
        )
    row.append(
        InlineKeyboardButton(f"{t('button.done')} #{task.id}", callback_data=encode(DONE, task.id))
    )
    return InlineKeyboardMarkup([row])


def post_button(t: Catalog, proposal_id: int, street: str) -> InlineKeyboardMarkup:
    """The dispatcher's confirmation of a geocoded task."""
    label = t("button.post", street=street)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=encode(POST, proposal_id))]]
    )


def suggestion_buttons(t: Catalog, proposals: list[tuple[int, str, str]]) -> InlineKeyboardMarkup:
    """One "Post at STREET (DISTRICT)" button per (proposal id, street, district): a press
    posts the /newtask on that street with the count and note typed (docs/commands.md "Chinese as
    people type it")."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("typed.post_at", street=street, district=district),
                    callback_data=encode(POST, proposal_id),
                )
            ]
            for proposal_id, street, district in proposals
        ]
    )


def accept_list(t: Catalog, tasks: list[Task]) -> InlineKeyboardMarkup | None:
    """One Accept button per task, for check-in replies and /tasks."""
    rows = [
        [
            InlineKeyboardButton(
                f"{t('button.accept')} #{task.id} · {task.street}",
                callback_data=encode(ACCEPT, task.id),
            )
        ]
        for task in tasks
        if task.accepted < task.needed
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def team_buttons(t: Catalog, request_id: int) -> InlineKeyboardMarkup:
    """Confirm or Refuse a large team's check-in."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("button.confirm"), callback_data=encode(CONFIRM, request_id)
                ),
                InlineKeyboardButton(t("button.refuse"), callback_data=encode(REFUSE, request_id)),
            ]
        ]
    )


def placed_buttons(t: Catalog, task: Task) -> InlineKeyboardMarkup | None:
    """Under an accept or release reply: give the places back, or report the task done."""
    if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED):
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"{t('places.button_release')} #{task.id}",
                    callback_data=encode(RELEASE, task.id),
                ),
                InlineKeyboardButton(
                    f"{t('button.done')} #{task.id}", callback_data=encode(DONE, task.id)
                ),
            ]
        ]
    )


def release_list(t: Catalog, task_ids: list[int]) -> list[list[InlineKeyboardButton]]:
    """One Release button per task the reader holds places on (for /tasks)."""
    return [
        [
            InlineKeyboardButton(
                f"{t('places.button_release')} #{task_id}", callback_data=encode(RELEASE, task_id)
            )
        ]
        for task_id in task_ids
    ]
