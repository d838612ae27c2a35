"""The token never reaches the log, whoever logs it and however."""

from __future__ import annotations

import io
import logging

from snowbot.settings.redact import TokenFilter

TOKEN = "123456:SECRET-token"


def test_the_token_is_cleaned_from_messages_arguments_and_tracebacks() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(TokenFilter(TOKEN))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        log.info(f"POST https://api.telegram.org/bot{TOKEN}/getUpdates")
        log.warning("request to %s failed", f"/bot{TOKEN}/sendMessage")
        try:
            raise RuntimeError(f"cannot reach /bot{TOKEN}/getMe")
        except RuntimeError:
            log.exception("startup failed")
        log.info("nothing secret here")
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert TOKEN not in text
    assert text.count("<token>") == 3 and "nothing secret here" in text
    assert "RuntimeError" in text  # the traceback is kept, cleaned
