"""Photos Telegram keeps, fetched once (`snowbot.service.miniapp.Photos`) and kept on disk.

The cache holds at most `limit` bytes; the photos least recently shown go first. Files
are named by a hash of the file id, so a file id never becomes a path.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path

from snowbot.service.miniapp import Photos

log = logging.getLogger("snowbot.service.miniapp")


class PhotoCache:
    def __init__(self, source: Photos | None, directory: Path | None, limit: int) -> None:
        self.source, self.directory, self.limit = source, directory, limit
        self._fetching: dict[str, asyncio.Future[bytes | None]] = {}

    def _path(self, file_id: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / hashlib.sha256(file_id.encode()).hexdigest()

    async def get(self, file_id: str) -> bytes | None:
        """The photo's bytes, from the disk or from Telegram; None when it cannot be had."""
        path = self._path(file_id)
        if path is not None:
            kept = await asyncio.to_thread(_read, path)
            if kept is not None:
                return kept
        if self.source is None:
            return None
        if file_id in self._fetching:  # two screens asking at once: one fetch
            return await asyncio.shield(self._fetching[file_id])
        fetching: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._fetching[file_id] = fetching
        try:
            body = await self.source.photo(file_id)
            if body is not None and path is not None and len(body) <= self.limit:
                await asyncio.to_thread(_keep, path, body, self.limit)
            fetching.set_result(body)
            return body
        except BaseException as exc:
            fetching.set_result(None)
            if isinstance(exc, Exception):
                log.warning("fetching a photo failed: %r", exc)
                return None
            raise
        finally:
            del self._fetching[file_id]


def _read(path: Path) -> bytes | None:
    try:
        body = path.read_bytes()
    except OSError:
        return None
    os.utime(path)  # shown now: the last to be evicted
    return body


def _keep(path: Path, body: bytes, limit: int) -> None:
    """Write the photo, then evict the least recently shown until the cache fits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_bytes(body)
    part.replace(path)
    files = []
    for found in path.parent.iterdir():
        try:
            files.append((found.stat().st_mtime_ns, found.stat().st_size, found))
        except OSError:
            continue
    total = sum(size for _, size, _ in files)
    for _, size, found in sorted(files, key=lambda f: (f[0], f[2] == path)):
        if total <= limit:
            break
        if found == path:
            continue
        found.unlink(missing_ok=True)
        total -= size
