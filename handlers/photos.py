"""Photos Telegram keeps (proof of /done, residents' photos), fetched by file id with
getFile for the Mini App and the overview (`snowbot.service.miniapp.Photos`)."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import TelegramError

log = logging.getLogger("snowbot.photos")
MAX_PHOTO = 20 * 1024 * 1024  # bytes; Telegram's own limit for getFile


def file_url(base_url: str) -> str:
    """Where the Bot API server serves files: ".../bot" becomes ".../file/bot"."""
    head, _, _ = base_url.rstrip("/").rpartition("/bot")
    return f"{head}/file/bot"


class TelegramPhotos:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def photo(self, file_id: str) -> bytes | None:
        try:
            found = await self.bot.get_file(file_id)
            if found.file_size is not None and found.file_size > MAX_PHOTO:
                return None
            return bytes(await found.download_as_bytearray())
        except TelegramError as exc:
            log.warning("fetching a photo from Telegram failed: %s", exc)
            return None
