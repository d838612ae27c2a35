"""Replies once (issue 20), at the store: an update's replies and its handled mark commit
together; a message is claimed before it goes to Telegram, and a claimed one is not sent
by anyone else, nor again after a crash; a chat's older waiting message of the same lane
(or an earlier one) goes first."""

from __future__ import annotations

from pathlib import Path

from snowbot.domain.messages import Outgoing
from tests.harness import opened_store


def _reply(update_id: int, n: int, chat: int, text: str) -> Outgoing:
    return Outgoing(f"reply:{update_id}:{n}", chat, "", text=text)


async def test_an_update_is_marked_with_its_replies_and_they_are_claimed(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "once.db") as store:
        replies = [_reply(7, 0, 100, "✅ On duty"), _reply(7, 1, 200, "told the group")]
        claimed = await store.finish_update(7, replies, 1.0)
        assert await store.update_seen(7)
        assert [i.message for i in claimed] == replies
        # claimed: the courier does not see them, nobody can claim them again
        assert await store.due_outbox(2.0, 10) == []
        assert await store.claim_outbox([i.id for i in claimed], 2.0) == []
        # queued again (the same update finished twice): nothing new, nothing claimed
        assert await store.finish_update(7, replies, 3.0) == []
        assert (await store.outbox_counts())[:2] == (0, 2)


async def test_a_reply_goes_before_an_older_notice_but_after_an_older_reply(
    tmp_path: Path,
) -> None:
    """Replies first (issue 31): a chat's order holds within a lane and the lanes before it."""
    async with opened_store(tmp_path / "once.db") as store:
        await store.enqueue([Outgoing("tally:1", 100, "en", text="12:00 report")], 1.0)
        (claimed,) = await store.finish_update(8, [_reply(8, 0, 200, "other chat")], 2.0)
        assert claimed.message.chat_id == 200
        # chat 100 has a report (a notice) waiting: the reply does not wait for it
        (first,) = await store.finish_update(9, [_reply(9, 0, 100, "before the report")], 3.0)
        assert first.message.text == "before the report"
        # but a reply waits behind an older reply of its chat still waiting
        await store.outbox_release([first.id])
        assert await store.finish_update(10, [_reply(10, 0, 100, "second")], 3.5) == []
        due = await store.due_outbox(4.0, 10)
        assert [i.message.key for i in due] == ["reply:9:0", "reply:10:0", "tally:1"]
        assert [i.lane for i in due] == [0, 0, 2]
        assert await store.claim_outbox([i.id for i in due], 4.0) == [i.id for i in due]


async def test_a_claim_given_back_or_put_off_waits_again(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "once.db") as store:
        first, second = await store.finish_update(
            10, [_reply(10, 0, 100, "one"), _reply(10, 1, 100, "two")], 1.0
        )
        await store.outbox_retry(first, due_at=5.0, error="502")  # Telegram failed: later
        await store.outbox_release([second.id])  # never handed over
        assert await store.due_outbox(4.0, 10) == []  # "two" waits behind "one"
        assert [i.message.text for i in await store.due_outbox(5.0, 10)] == ["one", "two"]
        await store.outbox_sent(first, 555, 6.0)
        assert (await store.outbox_counts())[:2] == (1, 1)
