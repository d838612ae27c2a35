"""The bot token never reaches a log: every record is cleaned of it before it is written.

The token is part of every Bot API URL, and libraries log URLs and errors at
various levels; rather than trust each one, the log's handlers drop it.
"""

from __future__ import annotations

import logging

REDACTED = "<token>"


class TokenFilter(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self.token in text:
            record.msg = text.replace(self.token, REDACTED)
            record.args = None
        if record.exc_info and self.token in logging.Formatter().formatException(record.exc_info):
            # the traceback is rendered here, cleaned, and kept as text
            record.msg = f"{record.msg}\n" + logging.Formatter().formatException(
                record.exc_info
            ).replace(self.token, REDACTED)
            record.exc_info = None
            record.exc_text = None
        return True


def hide_token(token: str | None) -> None:
    """Clean the token out of everything the root logger's handlers write."""
    if not token:
        return
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenFilter) for f in handler.filters):
            handler.addFilter(TokenFilter(token))
