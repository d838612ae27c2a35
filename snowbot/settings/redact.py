"""The bot token never reaches a log: every record is cleaned of it before it is written.

The token is part of every Bot API URL, and libraries log URLs and errors at
various levels; rather than trust each one, the log's handlers drop it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<token>"


def redact(text: str, token: str | None) -> str:
    """`text` with the token, and its secret half on its own, replaced by a marker.

    A Bot API token is "<bot id>:<secret>"; an error may quote either form.
    """
    if not token:
        return text
    text = text.replace(token, REDACTED)
    _, _, secret = token.partition(":")
    if len(secret) >= 8:
        text = text.replace(secret, REDACTED)
    return text


class TokenFilter(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cleaned = redact(text, self.token)
        if cleaned != text:
            record.msg = cleaned
            record.args = None
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            if redact(trace, self.token) != trace:
                # the traceback is rendered here, cleaned, and kept as text
                record.msg = f"{record.msg}\n" + redact(trace, self.token)
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


def hide_password(url: str) -> str:
    """A database URL as it may be printed: its password, in either place, replaced."""
    url = re.sub(r"(://[^:/@?]*:)[^@/?]*@", r"\1***@", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", url, flags=re.IGNORECASE)
