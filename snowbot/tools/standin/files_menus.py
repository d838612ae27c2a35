"""The stand-in's files and menus: getFile and the download of a photo people sent, the
command menus per scope (setMyCommands, deleteMyCommands) and the chat's menu button."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from snowbot.tools.standin.menus import Menus, scope_of
from snowbot.tools.standin.wire import ApiError, error_response


class FilesAndMenus:
    """The Bot API methods on files and menus; `BotApiServer` keeps what they read."""

    token: str
    files: dict[str, bytes]  # photos people sent, by file id
    downloads: int
    commands: dict[str, list[dict[str, Any]]]
    menus: Menus
    menu_button: dict[str, Any] | None

    async def _download(self, request: web.Request) -> web.Response:
        """A file as Telegram serves it after getFile: /file/bot<token>/<file_path>."""
        if request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        body = self.files.get(request.match_info["path"].removeprefix("photos/"))
        if body is None:
            return error_response(404, "Not Found")
        self.downloads += 1
        return web.Response(body=body, content_type="image/jpeg")

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.menus.set(params)
        if scope_of(params) == "default":
            self.commands[str(params.get("language_code") or "")] = list(params.get("commands", []))
        return True

    async def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        self.menus.delete(params)
        return True

    async def _api_setChatMenuButton(self, params: dict[str, Any]) -> bool:
        button = params.get("menu_button")
        self.menu_button = button if isinstance(button, dict) else None
        return True

    async def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id", ""))
        body = self.files.get(file_id)
        if body is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": len(body),
            "file_path": f"photos/{file_id}",
        }
