"""Ports for processes a test starts, on a machine where other processes take ports too.

A `snowbot run --webhook URL --port N` process must be told its port before it binds it (the
URL it gives Telegram holds it), so a test picks a port that was free a moment ago; another
process may take it in between. The process then says so in one line ("cannot listen on
…") and exits 1, and `webhook_process` starts it again on another port, a few times. What
the test binds itself (the stand-in, proxies, the overview) binds port 0 and reads it back.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

TRIES = 5


def free_port() -> int:
    """A port of 127.0.0.1 free a moment ago (only for a process that must know it first)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log_tail(log: Path, lines: int = 15) -> str:
    """The end of a process's output, for an assertion's message."""
    text = log.read_text("utf-8", errors="replace") if log.exists() else "(no output)"
    return "\n".join(text.splitlines()[-lines:])


async def webhook_process(
    start: Callable[[int], subprocess.Popen[bytes]], log: Path, ready: str, timeout: float = 60
) -> tuple[subprocess.Popen[bytes], int]:
    """`start(port)` on a free port until its output (`log`) shows `ready`; started again on
    another port when the one chosen was taken meanwhile, at most TRIES times. Any other
    exit fails the test with the process's last lines."""
    for _ in range(TRIES):
        port = free_port()
        process = start(port)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while process.poll() is None and ready not in log.read_text("utf-8", errors="replace"):
            if loop.time() > deadline:
                process.kill()
                raise AssertionError(f"not {ready!r} within {timeout} s:\n{log_tail(log)}")
            await asyncio.sleep(0.05)
        if process.poll() is None:
            return process, port
        if f"cannot listen on 127.0.0.1:{port}" not in log_tail(log, 1):
            raise AssertionError(f"exited {process.returncode}:\n{log_tail(log)}")
    raise AssertionError(f"no free port in {TRIES} tries:\n{log_tail(log)}")
