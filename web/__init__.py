"""The one-screen overview (一屏总览, docs/operators.md "The overview"): an adapter like `handlers`,
serving the service over HTTP from the bot's own event loop. It imports the service,
never storage; only `snowbot.app.wiring` starts it."""

from web.server import Overview

__all__ = ["Overview"]
