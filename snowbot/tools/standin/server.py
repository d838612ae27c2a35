"""The Bot API as far as snowbot uses it, served over HTTP on 127.0.0.1: getUpdates,
sendMessage, edits, callback answers; with Telegram's flood limit, outages and
groups that move or remove the bot, when a test asks for them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from snowbot.tools.standin.files_menus import FilesAndMenus
from snowbot.tools.standin.menus import Menus
from snowbot.tools.standin.wire import (
    BOT_ID,
    BOT_USERNAME,
    ApiError,
    Sent,
    error_response,
    read_params,
)

CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


def _open(request: web.Request) -> bool:
    """Whether the client of a request is still connected (a killed bot's poll is not)."""
    return request.transport is not None and not request.transport.is_closing()


class BotApiServer(FilesAndMenus):
    """The stand-in's server side: the Bot API methods snowbot calls, and what they keep."""

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
        self.commands: dict[str, list[dict[str, Any]]] = {}  # the default scope's, by language
        self.menus = Menus()  # every scope's (`Menus.shown`: what a chat's menu shows)
        self.documents: dict[str, bytes] = {}
        # photos people sent, by file id (getFile and the download serve them); the chat's
        # menu button as setChatMenuButton left it; file downloads served, for the tests
        self.files: dict[str, bytes] = {}
        self.menu_button: dict[str, Any] | None = None
        self.downloads = 0
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
        # getUpdates as Telegram serves it: one at a time. A second one while the first still
        # waits ends the first with 409 Conflict (counted here; a test of two bot processes
        # shows it stays 0); while a webhook is set, getUpdates is refused with 409 too.
        self.conflicts = 0
        self._poll: tuple[object, web.Request] | None = None
        self._terminated: set[object] = set()
        # a webhook, as setWebhook sets it: updates are posted to it, one at a time, in order,
        # until it answers 2xx; every answer's status is kept for the tests
        self.webhook: dict[str, str] | None = None
        self.webhook_statuses: list[int] = []
        self._pusher: asyncio.Task[None] | None = None
        self._kept: socket.socket | None = None  # the port, held while unplugged

    # -- server ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # a stop does not wait for long polls to run out (see `unplug`)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        # reuse_port: beside `_kept`, which holds the port while unplugged
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_port=True)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        if self._kept is None:
            self._kept = socket.socket()
            self._kept.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            self._kept.bind(("127.0.0.1", self.port))

    async def stop(self) -> None:
        await self._close()
        if self._kept is not None:
            self._kept.close()
            self._kept = None

    async def _close(self) -> None:
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def unplug(self) -> None:
        """Telegram out of reach: connections are refused until `plug`; all else is kept.
        The port stays bound (not listening, which refuses connections), so that no other
        process on the machine takes it meanwhile."""
        await self._close()

    async def plug(self) -> None:
        """Reachable again, on the same port."""
        await self.start()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls[method] += 1
        if self.failing is not None and (self.failing_only is None or method in self.failing_only):
            return error_response(self.failing, "Stand-in failing on purpose")
        try:
            params = await read_params(request, self.documents)
        except ConnectionResetError:  # the bot hung up mid-request (it is stopping)
            return error_response(400, "Bad Request: connection lost")
        if method == "getUpdates":
            params["_request"] = request
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return error_response(404, "Not Found: method not found")
        paid = params.get("allow_paid_broadcast") in (True, "true", "True")
        # paid broadcasts have a limit of their own (1,000 a second), not played here
        sending = method in ("sendMessage", "sendDocument", "sendPhoto")
        if sending and not paid and self._over_rate():
            return error_response(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        try:
            result = await handler(params)
        except ApiError as exc:
            return error_response(exc.code, exc.description, exc.parameters)
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
        self.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url.startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: an HTTPS URL must be provided")
        secret = str(params.get("secret_token") or "")
        self.webhook = {"url": url, "secret_token": secret}
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_updates())
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _push_updates(self) -> None:
        """Post each update to the webhook, oldest first, until it is taken (2xx)."""
        async with aiohttp.ClientSession() as http:
            while self.webhook is not None:
                async with self._changed:
                    if not self._updates:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), 0.5)
                        continue
                    update = self._updates[0]
                hook = self.webhook
                if hook is None:
                    break
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]}
                try:
                    async with http.post(hook["url"], json=update, headers=headers) as answer:
                        self.webhook_statuses.append(answer.status)
                        taken = 200 <= answer.status < 300
                except aiohttp.ClientError:
                    taken = False
                if taken:
                    self._updates = [u for u in self._updates if u is not update]
                else:
                    await asyncio.sleep(0.2)

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        request: web.Request = params["_request"]
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        poll = object()
        async with self._changed:
            if self._poll is not None and _open(self._poll[1]):
                self._terminated.add(self._poll[0])  # the one still waiting gets the 409
                self._changed.notify_all()
            self._poll = (poll, request)
            try:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if not self._updates and timeout > 0:
                    # as Telegram: the poll ends when an update comes or its time is up, not
                    # whenever the bot sends something (an early answer then crossed the
                    # bot's stop: PTB cancelled it mid-close, and its one polling connection
                    # stayed taken, so the last getUpdates timed out with a warning)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._changed.wait_for(
                                lambda: self._fresh(offset) or poll in self._terminated
                            ),
                            timeout,
                        )
                if poll in self._terminated:
                    self._terminated.discard(poll)
                    self.conflicts += 1
                    raise ApiError(409, CONFLICT)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                return self._updates[:limit]
            finally:
                if self._poll is not None and self._poll[0] is poll:
                    self._poll = None

    def _fresh(self, offset: int) -> bool:
        """Whether an update the poll at `offset` has not had is waiting."""
        return any(u["update_id"] >= offset for u in self._updates)

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

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """A photo by the file id Telegram gave it (what snowbot forwards: a proof photo)."""
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        sent = await self._record(
            params, "sendPhoto", str(params.get("caption") or ""), photo=photo
        )
        return sent

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
            raise ApiError(400, "Bad Request: message to edit not found")
        return sent

    async def _record(
        self,
        params: dict[str, Any],
        method: str,
        text: str,
        document: str | None = None,
        photo: str | None = None,
    ) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id in self._removed:
            raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
        if chat_id in self._upgraded:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._upgraded[chat_id]},
            )
        if chat_id < 0 and chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        if not text and document is None and photo is None:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        sent = Sent(
            chat_id, next(self._message_ids), text, params.get("reply_markup"), method, document
        )
        sent.paid = params.get("allow_paid_broadcast") in (True, "true", "True")
        sent.photo = photo
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

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return self._chats.get(chat_id) or {"id": chat_id, "type": "private"}
