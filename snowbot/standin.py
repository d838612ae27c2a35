"""A local stand-in for the Telegram Bot API, for the demo, the tests and the benchmark.

It speaks the Bot API over HTTP on 127.0.0.1 (`/bot<token>/<method>`), as far as
snowbot uses it, and plays the people on the other side: `say`, `share_location`
and `press` queue updates the bot fetches with getUpdates; what the bot sends is
kept per chat and can be awaited. No network beyond loopback, no Telegram code.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7_000_000_001
BOT_USERNAME = "snowbot_demo_bot"
# Parameters the Bot API takes as plain strings; every other one arrives JSON-encoded.
_STRING_PARAMS = {
    "text",
    "caption",
    "callback_query_id",
    "description",
    "short_description",
    "parse_mode",
    "url",
    "language_code",
    "emoji",
    "name",
    "title",
    "query",
}


@dataclass
class SimUser:
    id: int
    first_name: str
    language_code: str | None = "zh"
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class Sent:
    """A message the bot sent (and its later edits)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    method: str
    document: str | None = None
    edits: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button(self, label: str) -> dict[str, Any]:
        for b in self.buttons:
            if label in b.get("text", ""):
                return b
        raise KeyError(f"no button {label!r} in {self.buttons}")

    def as_message(self, chat: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "snowbot",
                "username": BOT_USERNAME,
            },
        }
        if self.document is not None:
            message["document"] = {
                "file_id": f"doc{self.message_id}",
                "file_unique_id": f"udoc{self.message_id}",
                "file_name": self.document,
            }
            if self.text:
                message["caption"] = self.text
        else:
            message["text"] = self.text
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


REDELIVERABLE = 10_000  # the latest updates kept for `redeliver`


class BotApiStandIn:
    """The stand-in server and the simulated people, in one object."""

    def __init__(
        self,
        token: str = "123456:DEMO",
        *,
        rate_limit: float | None = None,
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
        port: int = 0,  # 0: any free port
    ) -> None:
        self.token = token
        self.rate_limit = rate_limit  # messages per second, as Telegram enforces
        self.on_event = on_event
        self.port = port
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.sent: defaultdict[int, list[Sent]] = defaultdict(list)
        self.answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.documents: dict[str, bytes] = {}
        self.total_sent = 0  # messages sent to any chat, for waiting on a whole wave
        self.failing: int | None = None  # an HTTP status to answer every call with,
        self.failing_only: frozenset[str] | None = None  # or only calls of these methods
        self._updates: list[dict[str, Any]] = []
        self._pushed: dict[int, dict[str, Any]] = {}  # every update ever pushed, to redeliver
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._chats: dict[int, dict[str, Any]] = {}
        self._removed: set[int] = set()  # groups that have removed the bot
        self._upgraded: dict[int, int] = {}  # groups that became supergroups: their new ids
        self._by_id: dict[tuple[int, int], Sent] = {}
        self._window: list[float] = []
        self._runner: web.AppRunner | None = None

    # -- server ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # a stop does not wait for long polls to run out (see `unplug`)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def unplug(self) -> None:
        """Telegram out of reach: connections are refused until `plug`; all else is kept."""
        await self.stop()

    async def plug(self) -> None:
        """Reachable again, on the same port."""
        await self.start()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls[method] += 1
        if self.failing is not None and (self.failing_only is None or method in self.failing_only):
            return _error(self.failing, "Stand-in failing on purpose")
        try:
            params = await _params(request, self.documents)
        except ConnectionResetError:  # the bot hung up mid-request (it is stopping)
            return _error(400, "Bad Request: connection lost")
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        if method in ("sendMessage", "sendDocument") and self._over_rate():
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        try:
            result = await handler(params)
        except _ApiError as exc:
            return _error(exc.code, exc.description, exc.parameters)
        return web.json_response({"ok": True, "result": result})

    def _over_rate(self) -> bool:
        if self.rate_limit is None:
            return False
        now = time.monotonic()
        self._window = [t for t in self._window if now - t < 1.0]
        if len(self._window) >= self.rate_limit:
            return True
        self._window.append(now)
        return False

    # -- the Bot API methods snowbot calls ----------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "snowbot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands[str(params.get("language_code") or "")] = list(params.get("commands", []))
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        async with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            return self._updates[:limit]

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._record(params, "sendMessage", str(params.get("text", "")))

    async def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("document")
        return await self._record(
            params,
            "sendDocument",
            str(params.get("caption") or ""),
            document=str(name) if name else "file",
        )

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        sent = self._find(params)
        sent.text = str(params.get("text", ""))
        sent.edits.append(sent.text)
        sent.reply_markup = params.get("reply_markup")
        await self._notify("edit", sent)
        return sent.as_message(self._chat(sent.chat_id))

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        sent = self._find(params)
        sent.reply_markup = params.get("reply_markup")
        await self._notify("edit", sent)
        return sent.as_message(self._chat(sent.chat_id))

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        self.answers[str(params.get("callback_query_id"))] = params
        async with self._changed:
            self._changed.notify_all()
        return True

    def _find(self, params: dict[str, Any]) -> Sent:
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        sent = self._by_id.get(key)
        if sent is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return sent

    async def _record(
        self, params: dict[str, Any], method: str, text: str, document: str | None = None
    ) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id in self._removed:
            raise _ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        if chat_id in self._upgraded:
            raise _ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._upgraded[chat_id]},
            )
        if chat_id < 0 and chat_id not in self._chats:
            raise _ApiError(400, "Bad Request: chat not found")
        if not text and document is None:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        sent = Sent(
            chat_id, next(self._message_ids), text, params.get("reply_markup"), method, document
        )
        self.sent[chat_id].append(sent)
        self.total_sent += 1
        self._by_id[(chat_id, sent.message_id)] = sent
        await self._notify("sent", sent)
        return sent.as_message(self._chat(chat_id))

    async def _notify(self, kind: str, sent: Sent) -> None:
        if self.on_event is not None:
            self.on_event(
                kind, {"chat_id": sent.chat_id, "text": sent.text, "document": sent.document}
            )
        async with self._changed:
            self._changed.notify_all()

    # -- the people's side ---------------------------------------------------------

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

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return self._chats.get(chat_id) or {"id": chat_id, "type": "private"}

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


class _ApiError(Exception):
    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


async def _params(request: web.Request, documents: dict[str, bytes]) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            raw.update(body)
        return raw
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            name = getattr(part, "name", None)
            if not name:
                continue
            filename = getattr(part, "filename", None)
            data = await part.read()  # type: ignore[union-attr]
            if filename:
                documents[filename] = bytes(data)
                raw[name] = filename
            else:
                raw[name] = _decode(name, bytes(data).decode("utf-8"))
        return raw
    if request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            raw[key] = _decode(key, str(value))
    return raw


def _decode(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
