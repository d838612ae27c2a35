"""The terminal side of `snowbot play`: reading lines (with history and editing when
stdin is a terminal) and printing the bot's messages (in colour only on a terminal)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, TextIO

ARROW = "→"
INDENT = "  "  # continuation lines of a message, and its buttons


class Console:
    """Where the lines come from and the transcript goes."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.interactive = _is_tty(self.stdin) and _is_tty(self.stdout)
        self.colour = _is_tty(self.stdout) and "NO_COLOR" not in os.environ
        if self.interactive:
            # imported for its side effect: input() gets history and line editing
            import readline  # noqa: F401

    async def read(self) -> str | None:
        """The next line, or None at the end of input (Ctrl+D in a terminal)."""
        if self.interactive:
            try:
                return await asyncio.to_thread(input, self._prompt())
            except EOFError:
                print(file=self.stdout)
                return None
        line = await asyncio.to_thread(self.stdin.readline)
        return line.rstrip("\n") if line else None

    def message(self, who: str, text: str, markup: dict[str, Any] | None) -> None:
        """One message of the bot: `→ WHO: text`, then its buttons as `[label]`."""
        lines = text.splitlines() or [""]
        head = self._paint(f"{ARROW} {who}:", "1;36")
        out = [f"{head} {lines[0]}".rstrip()]
        out += [f"{INDENT}{line}".rstrip() for line in lines[1:]]
        labels = button_labels(markup)
        if labels:
            out.append(INDENT + " ".join(self._paint(f"[{label}]", "33") for label in labels))
        self._write("\n".join(out))

    def note(self, text: str) -> None:
        """What the console itself says (hints, the banner): dimmed on a terminal."""
        self._write(self._paint(text, "2"))

    def plain(self, text: str) -> None:
        self._write(text)

    def _prompt(self) -> str:
        # readline counts the prompt's width: the colour codes are marked as taking none
        return "\001\x1b[1m\002> \001\x1b[0m\002" if self.colour else "> "

    def _paint(self, text: str, sgr: str) -> str:
        return f"\x1b[{sgr}m{text}\x1b[0m" if self.colour else text

    def _write(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)


def buttons(markup: dict[str, Any] | None) -> list[Any]:
    """A message's buttons, inline ones and a reply keyboard's alike."""
    rows = (markup or {}).get("inline_keyboard") or (markup or {}).get("keyboard") or []
    return [button for row in rows for button in row]


def button_text(button: Any) -> str:
    """A button's label (a reply keyboard's button may be a bare string)."""
    return str(button.get("text", "")) if isinstance(button, dict) else str(button)


def button_labels(markup: dict[str, Any] | None) -> list[str]:
    return [button_text(button) for button in buttons(markup)]


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
