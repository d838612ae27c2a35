"""Leading a SQLite database: an exclusive `flock` on a lock file beside it.

The kernel drops the lock when its holder's file is closed, which includes the process
dying by `kill -9`, so a standby's next try takes it. The lock file is never deleted
(deleting it would let two processes lock two different files of one name); it holds
the leader's process id, for the operator.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


class FileLeadership:
    """`snowbot.settings.leadership.Leadership` for a SQLite file."""

    def __init__(self, database: Path) -> None:
        self.path = lock_path(database)
        self._fd: int | None = None

    @property
    def where(self) -> str:
        return str(self.path)

    async def try_lead(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    async def still_leading(self) -> bool:
        return self._fd is not None  # a file lock is not lost while the process lives

    async def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing drops the lock
