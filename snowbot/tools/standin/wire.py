"""The stand-in's wire: the people it plays, the messages the bot sends, and how Bot API
parameters and errors travel over HTTP."""

from __future__ import annotations

import json
import time
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
    "file_id",
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
    paid: bool = False  # sent as a paid broadcast (allow_paid_broadcast)
    photo: str | None = None  # sendPhoto: the photo's file id

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
        elif self.photo is not None:
            size = {"file_id": self.photo, "file_unique_id": f"u{self.photo}"}
            message["photo"] = [{**size, "width": 640, "height": 480}]
            if self.text:
                message["caption"] = self.text
        else:
            message["text"] = self.text
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


class ApiError(Exception):
    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def error_response(
    code: int, description: str, parameters: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


async def read_params(request: web.Request, documents: dict[str, bytes]) -> dict[str, Any]:
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
