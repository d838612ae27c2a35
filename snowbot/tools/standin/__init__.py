"""A local stand-in for the Telegram Bot API, for the demo, the tests and the benchmark.

It speaks the Bot API over HTTP on 127.0.0.1 (`/bot<token>/<method>`), as far as
snowbot uses it, and plays the people on the other side: `say`, `share_location`
and `press` queue updates the bot fetches with getUpdates; what the bot sends is
kept per chat and can be awaited. No network beyond loopback, no Telegram code.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Callable
from typing import Any

from snowbot.tools.standin.server import BotApiServer
from snowbot.tools.standin.wire import Sent, SimUser

__all__ = ["BotApiStandIn", "Sent", "SimUser"]

REDELIVERABLE = 10_000  # the latest updates kept for `redeliver`
# an 8×8 orange picture (PNG; browsers read it whatever the type said), then which one
PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP438CAFWEXHbQSAKmzX8FBxi1QAAAAAElFTkSuQmCC"
)


class BotApiStandIn(BotApiServer):
    """The stand-in server and the simulated people, in one object."""

    def group(self, chat_id: int, title: str) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self._chats[chat_id] = chat
        return chat

    def remove_bot(self, chat_id: int) -> None:
        """The group's admins remove the bot: sending there is Forbidden from now on."""
        self._removed.add(chat_id)

    async def upgrade_group(self, old_id: int, new_id: int, tell: bool) -> None:
        """The group becomes a supergroup with a new id, as Telegram does when a group grows
        or gets public; with `tell`, the bot hears it in an update, else only when it sends."""
        self._upgraded[old_id] = new_id
        self._chats[new_id] = {**self._chats[old_id], "id": new_id, "type": "supergroup"}
        self._chats[old_id]["type"] = "group"
        if tell:
            message = self._message(SimUser(999_999, "Group admin"), old_id)
            message["migrate_to_chat_id"] = new_id
            await self.push({"message": message})

    def _message(self, user: SimUser, chat_id: int | None) -> dict[str, Any]:
        chat = (
            self._chat(chat_id)
            if chat_id is not None
            else {"id": user.id, "type": "private", "first_name": user.first_name}
        )
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user.as_json(),
        }

    @property
    def updates_pushed(self) -> int:
        return self._last_update_id

    async def push(self, update: dict[str, Any]) -> int:
        update_id = self._last_update_id = next(self._update_ids)
        update["update_id"] = update_id
        self._pushed[update_id] = update
        self._pushed.pop(update_id - REDELIVERABLE, None)  # bounded: a long storm pushes many
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update_id

    async def redeliver(self, update_ids: list[int]) -> None:
        """Deliver updates again with their old ids, as Telegram does after a crash."""
        again = [dict(self._pushed[i], update_id=i) for i in update_ids]
        async with self._changed:
            self._updates.extend(again)
            self._updates.sort(key=lambda u: int(u["update_id"]))
            self._changed.notify_all()

    async def say(self, user: SimUser, text: str, chat_id: int | None = None) -> int:
        message = self._message(user, chat_id)
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self.push({"message": message})

    async def share_location(
        self, user: SimUser, lat: float, lon: float, live_edit: bool = False
    ) -> int:
        message = self._message(user, None)
        message["location"] = {"latitude": lat, "longitude": lon}
        if live_edit:
            message["edit_date"] = int(time.time())
            message["location"]["live_period"] = 3600
            return await self.push({"edited_message": message})
        return await self.push({"message": message})

    async def send_photo(self, user: SimUser, caption: str) -> int:
        message = self._message(user, None)
        message["photo"] = [
            {
                "file_id": f"photo{message['message_id']}",
                "file_unique_id": f"uphoto{message['message_id']}",
                "width": 640,
                "height": 480,
            }
        ]
        message["caption"] = caption
        # a picture's bytes, told apart by the message (the Mini App fetches them)
        self.files[f"photo{message['message_id']}"] = PHOTO + str(message["message_id"]).encode()
        length = len(caption.split()[0]) if caption.startswith("/") else 0
        if length:
            message["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self.push({"message": message})

    async def press(self, user: SimUser, sent: Sent, data: str) -> str:
        """Press an inline button of a bot message; returns the callback query id."""
        query_id = f"cq{next(self._callback_ids)}"
        await self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_json(),
                    "chat_instance": f"ci{sent.chat_id}",
                    "data": data,
                    "message": sent.as_message(self._chat(sent.chat_id)),
                }
            }
        )
        return query_id

    # -- waiting for the bot ---------------------------------------------------------

    def count(self, chat_id: int) -> int:
        return len(self.sent[chat_id])

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `check()` returns something truthy, and return it."""
        async with self._changed:
            result = check()
            deadline = asyncio.get_running_loop().time() + timeout
            while not result:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError("the bot did not answer in time")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
                result = check()
            return result

    async def reply(self, chat_id: int, after: int, timeout: float = 10.0) -> Sent:
        """The first message the bot sent to `chat_id` after it had sent `after` there."""
        messages: list[Sent] = await self.wait_for(lambda: self.sent[chat_id][after:], timeout)
        return messages[0]

    async def ask(
        self, user: SimUser, text: str, chat_id: int | None = None, timeout: float = 10.0
    ) -> Sent:
        """Say something and wait for the bot's first answer in that chat."""
        chat = user.id if chat_id is None else chat_id
        before = self.count(chat)
        await self.say(user, text, chat_id)
        return await self.reply(chat, before, timeout)

    async def locate(self, user: SimUser, lat: float, lon: float, timeout: float = 10.0) -> Sent:
        """Share a location and wait for the bot's answer."""
        before = self.count(user.id)
        await self.share_location(user, lat, lon)
        return await self.reply(user.id, before, timeout)

    async def click(
        self, user: SimUser, sent: Sent, label: str, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Press the button whose label contains `label`; the callback answer."""
        data = sent.button(label)["callback_data"]
        return await self.answer(await self.press(user, sent, data), timeout)

    async def answer(self, query_id: str, timeout: float = 10.0) -> dict[str, Any]:
        result: dict[str, Any] = await self.wait_for(lambda: self.answers.get(query_id), timeout)
        return result
