"""Messages the bot owes chats, queued with the change that caused them: what one says,
its lane under Telegram's rate limit, a chat bound to a district."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Binding:
    chat_id: int
    district_id: int | None  # None: the city-wide reports ("/bind all")
    bound_by: int = 0
    title: str = ""


# The outbox's lanes, first served first under Telegram's rate limit (`handlers.lanes`):
# replies to what someone just did, then task announcements, then bulk notices
LANE_REPLY = 0
LANE_ANNOUNCE = 1
LANE_NOTICE = 2


@dataclass(frozen=True)
class Outgoing:
    """A message the bot owes a chat. It is queued in the transaction that caused it.

    Either `text`, sent as it is (with `markup`, Bot API JSON, if any), or a `task_id`
    with a catalog `template` whose {task} is filled in when it is sent, so the task
    shows as it is then, with its buttons. `(key, chat_id)` is queued at most once.
    """

    key: str
    chat_id: int
    lang: str
    text: str | None = None
    task_id: int | None = None
    template: str | None = None
    markup: str | None = None
    # a six-day storm: a file of `incident_id`'s export ("shifts.csv"), made when it is
    # sent, with `text` as its caption; and a report that drops the older messages still
    # waiting for the same chat whose keys begin with `supersedes` ("tally:")
    document: str | None = None
    incident_id: int | None = None
    supersedes: str | None = None
    # the lane (see LANE_REPLY); None: by what it is (`lane_of`)
    lane: int | None = None
    # a message already sent to the chat that this one replaces (its text edited, its
    # buttons gone), instead of a new message: a decision shown where it was asked
    edit_of: int | None = None
    # a photo already on Telegram (its file id), sent with `text` as its caption
    photo: str | None = None
    # the outbox id of the message this one edits, when its Telegram id was not yet known
    # as this was queued (it was being sent): held until it is (`SentCopy.outbox_id`)
    edit_after: int | None = None


def lane_of(message: Outgoing) -> int:
    """A message's lane: as given, or a reply's (its key begins "reply:"), a task
    announcement's, or else a notice's."""
    if message.lane is not None:
        return message.lane
    if message.key.startswith("reply:"):
        return LANE_REPLY
    return LANE_ANNOUNCE if message.task_id is not None else LANE_NOTICE


@dataclass(frozen=True)
class SentCopy:
    """A message sent to a chat (to be edited once its question is decided or withdrawn);
    `message_id` None: it was being sent, its Telegram id not yet known (edit after it)."""

    chat_id: int
    language: str
    message_id: int | None
    outbox_id: int = 0


@dataclass(frozen=True)
class OutboxItem:
    id: int
    message: Outgoing
    attempts: int
    lane: int = LANE_NOTICE  # as queued (`lane_of`)


def proposal_copy(proposal_id: int) -> str:
    """The outbox key of the message that offers a task proposal's "Post" button (for a list
    of suggestions, its first proposal's): found again to be edited when it is withdrawn."""
    return f"proposal:{proposal_id}"


@dataclass(frozen=True)
class InTheirLanguage:
    """A notice for a person whose language is settled only where it is queued: in the
    language they chose with /lang (kept in the database), else `fallback`, in the
    language Telegram says they use."""

    fallback: Outgoing
    by_language: Mapping[str, Outgoing] = field(default_factory=dict)

    def said_in(self, chosen: str | None) -> Outgoing:
        return self.by_language.get(chosen or "", self.fallback)
