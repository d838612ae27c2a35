"""What the adapter keeps through the service: updates taken in and handled, the outbox
and its deliveries, task announcements and their edits, and groups that are gone."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from snowbot.domain import limits
from snowbot.domain.counts import DayCounts
from snowbot.domain.messages import Binding, InTheirLanguage, OutboxItem, Outgoing
from snowbot.domain.model import Turn, User
from snowbot.domain.roles import Role
from snowbot.service.core import ServiceCore
from snowbot.text.texts import LANGUAGES, catalog

# several webhook processes: each renews its heartbeat this often, and one not renewed for
# DEAD_AFTER seconds by the database's clock is dead: its turns and its kept updates are
# taken over (a live process's never are, however old)
HEARTBEAT_SECONDS = 2.0
DEAD_AFTER = 15.0  # a beat stuck behind a busy database for a while is not a death
ORPHANS_AT_ONCE = 500


class DeliveryService(ServiceCore):
    # -- updates -----------------------------------------------------------------

    async def already_handled(self, update_id: int) -> bool:
        """Whether this Telegram update was handled before (a redelivery, to be ignored).

        An update is marked once it has been handled. If the bot dies in between, the
        update comes again and is handled again: every action is safe to repeat
        (checking in while on duty adds nothing, a second accept is "already"), and
        the two that are not, posting a task and starting an incident, find what
        they made the first time by the update's id (`origin`).
        """
        return await self.store.update_seen(update_id)

    async def handled(self, update_id: int, replies: Sequence[Outgoing] = ()) -> list[OutboxItem]:
        """Mark the update handled and queue its replies in the same transaction, so a
        crash never has it handled again after anyone heard back. Returns the replies
        claimed to be sent at once; the courier sends the others after older messages."""
        claimed = await self.store.finish_update(update_id, replies, self.clock())
        self.health.updates_handled += 1
        return claimed

    async def keep_updates(
        self,
        updates: list[tuple[int, str]],
        people: Mapping[int, int] | None = None,
        holder: str | None = None,
        languages: Mapping[int, str | None] | None = None,
    ) -> list[int]:
        """Keep updates as fetched, before Telegram hears they were received, as process
        `holder`'s; `people`: whose each is (by update id), so that several processes keep
        each person's order. Returns the ids of those dropped: their person already had
        `[bot] max_queued_per_person` kept and unhandled (the first dropped of a flood tells
        them, in `languages`' language of that update: Telegram's language code)."""
        whose = people or {}
        kept = [(update_id, body, whose.get(update_id)) for update_id, body in updates]
        notices = self._flood_notices(whose, languages or {})
        return await self.store.keep_updates(
            kept, self.clock(), holder, self.config.max_queued_per_person, notices
        )

    async def drop_updates(
        self, people: Mapping[int, int], languages: Mapping[int, str | None]
    ) -> None:
        """Drop updates (whose each is, by id) whose person has more than
        `[bot] max_queued_per_person` waiting in this very process: marked handled, with
        the flood's one notice, as `keep_updates` drops them."""
        notices = self._flood_notices(people, languages)
        await self.store.drop_updates(list(people.items()), self.clock(), notices)

    def _flood_notices(
        self, people: Mapping[int, int], languages: Mapping[int, str | None]
    ) -> dict[int, InTheirLanguage]:
        """What each person is told, once a flood, when their updates are dropped: in the
        language they chose with /lang, else in that of the first of theirs here
        (Telegram's language code)."""
        most = self.config.max_queued_per_person

        def notice(person: int, lang: str) -> Outgoing:
            text = catalog(lang)("turns.flood", most=most)
            return Outgoing(f"flood:{person}", person, lang, text=text)

        notices: dict[int, InTheirLanguage] = {}
        for update_id, person in people.items():
            if person > 0 and person not in notices:  # a user (a private chat of theirs)
                lang = self.language_of_code(languages.get(update_id))
                others = {o: notice(person, o) for o in LANGUAGES if o != lang}
                notices[person] = InTheirLanguage(notice(person, lang), others)
        return notices

    async def beat(self, holder: str) -> None:
        """Process `holder` is alive (several webhook processes)."""
        await self.store.beat(holder)

    async def leave(self, holder: str) -> None:
        """Process `holder` stops: its unhandled updates are orphans at once."""
        await self.store.leave(holder)

    async def take_turn(self, person: int, update_id: int, holder: str) -> Turn:
        """Whether process `holder` may handle this update of `person` now (several
        webhook processes): see `storage.queries.turns.take_turn`."""
        return await self.store.take_turn(person, update_id, holder, DEAD_AFTER)

    async def turn_may_be_free(self, person: int, update_id: int, holder: str) -> bool:
        """Whether `take_turn` may succeed now (a read: no write while waiting)."""
        return await self.store.turn_may_be_free(person, update_id, holder, DEAD_AFTER)

    async def give_back_turn(self, person: int, update_id: int, holder: str) -> None:
        await self.store.give_back_turn(person, update_id, holder)

    async def claim_orphans(self, holder: str) -> list[str]:
        """Updates kept and unhandled that no other live process has (theirs died, or
        stopped), now this process's, oldest first."""
        return await self.store.claim_orphans(holder, DEAD_AFTER, ORPHANS_AT_ONCE)

    async def unhandled_updates(self) -> list[str]:
        """Updates kept but not handled when the bot last stopped (killed mid-burst)."""
        return await self.store.unhandled_updates()

    async def forget_old_updates(self) -> int:
        return await self.store.forget_updates(self.clock() - limits.SEEN_UPDATES_SECONDS)

    # -- the outbox ----------------------------------------------------------------

    async def reply_later(
        self, update_id: int, chat_id: int, text: str, markup: str | None = None
    ) -> None:
        """Queue a reply on its own (outside an update's handling), keyed by the update
        and the text, so the same reply is queued once."""
        digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
        # rendered already: the language is not needed again
        later = Outgoing(f"reply:{update_id}:{digest}", chat_id, "", text=text, markup=markup)
        await self.store.enqueue([later], self.clock())

    async def claim_messages(self, items: Sequence[OutboxItem]) -> list[OutboxItem]:
        """The messages this sender may hand to Telegram now (no other sender has them)."""
        claimed = set(await self.store.claim_outbox([i.id for i in items], self.clock()))
        return [i for i in items if i.id in claimed]

    async def release_messages(self, items: Sequence[OutboxItem]) -> None:
        """Claimed messages not handed to Telegram after all: they wait again."""
        if items:
            await self.store.outbox_release([i.id for i in items])

    async def queue(self, messages: Sequence[Outgoing]) -> int:
        """Queue messages for the courier; returns how many were new (a key goes once)."""
        return await self.store.enqueue(messages, self.clock())

    async def already_queued(self, key: str) -> bool:
        """Whether anything was ever queued under this key (sent or not)."""
        return await self.store.queued(key)

    async def due_messages(self, limit: int) -> list[OutboxItem]:
        """What the courier should send now, oldest first, in order within each chat."""
        return await self.store.due_outbox(self.clock(), limit)

    async def message_sent(self, item: OutboxItem, message_id: int) -> None:
        await self.store.outbox_sent(item, message_id, self.clock())

    async def retry_message(self, item: OutboxItem, due_at: float, error: str) -> None:
        """Telegram refused or could not be reached: try this message again at `due_at`."""
        await self.store.outbox_retry(item, due_at, error)
        self.health.telegram_errors += 1
        self.health.telegram_retries += 1

    async def message_failed(self, item: OutboxItem, error: str, telegram: bool = True) -> None:
        """This message can never be sent: it stays in the outbox, marked failed.

        `telegram`: Telegram refused it (False: the bot itself dropped it)."""
        await self.store.outbox_failed(item, self.clock(), error)
        self.health.telegram_errors += telegram

    async def outbox_backlog(self) -> int:
        """Messages waiting to be sent (the overview's /metrics)."""
        waiting, _, _ = await self.store.outbox_counts()
        return waiting

    # -- announcements ----------------------------------------------------------------

    async def announced(self, task_id: int, chat_id: int, message_id: int) -> None:
        """A message about the task went out: it is edited as the task changes."""
        await self.store.add_announcement(task_id, chat_id, message_id)

    async def announcements(self, task_id: int) -> list[tuple[int, int]]:
        """(chat id, message id) of every message announcing the task."""
        return await self.store.announcements(task_id)

    async def mark_stale(self, task_ids: Sequence[int]) -> None:
        """These tasks' announcements could not all be edited: bring them up to date later."""
        await self.store.mark_stale(task_ids, self.clock())

    async def take_stale(self, limit: int) -> list[int]:
        """Up to `limit` tasks whose announcements an outage left behind, no longer marked."""
        return await self.store.take_stale(limit)

    # -- groups that are gone -------------------------------------------------------------

    async def binding_of(self, chat_id: int) -> Binding | None:
        return next((b for b in await self.store.bindings() if b.chat_id == chat_id), None)

    async def unbind(self, chat_id: int, notices: Sequence[Outgoing]) -> bool:
        """Forget a group's binding and queue `notices` about it, in one transaction."""
        return await self.store.unbind_chat(chat_id, notices, self.clock())

    async def dispatchers(self) -> list[User]:
        return await self.store.users_with_role(Role.DISPATCHER)

    # -- the day's summary ---------------------------------------------------------------

    async def day_counts(self, since: float, until: float) -> DayCounts:
        """Turnout, tasks done and streets served in [since, until) of the current incident."""
        incident = await self.incident()
        return await self.store.day_counts(incident.id, since, until)
