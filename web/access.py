"""Who may look: the token of `[dashboard]`, and the headers every answer carries.

The token comes once as `?token=` (then a cookie keeps it, so a bookmark need not hold
it) or as `Authorization: Bearer`. It is compared in constant time. Without it the
answer is 401 and nothing else; /healthz alone is open (a load balancer asks it).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from snowbot.dashboard_config import DashboardConfig

COOKIE = "snowbot_overview"
OPEN_PATHS = frozenset({"/healthz"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _same(given: str | None, token: str) -> bool:
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode())


def _open(path: str) -> bool:
    # the Mini App's paths check Telegram's signed initData themselves (web.miniapp)
    return path in OPEN_PATHS or path == "/app" or path.startswith("/app/")


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def content_policy(tiles: str) -> str:
    """Everything from this server ('self'); images from the tile server when one is set."""
    images = "'self' data:"
    if tiles:
        scheme, _, rest = tiles.partition("://")
        host = rest.split("/", 1)[0].replace("{s}", "*")
        images += f" {scheme}://{host}"
    return (
        f"default-src 'self'; img-src {images}; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


def install(app: web.Application, dashboard: DashboardConfig) -> None:
    """The token check before every handler, and the headers on every answer."""
    token = dashboard.token
    headers = {
        "Content-Security-Policy": content_policy(dashboard.tiles),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        remember = False
        if token is not None and not _open(request.path):
            if _same(request.query.get("token"), token):
                remember = request.cookies.get(COOKIE) != token
            elif not (_same(request.cookies.get(COOKIE), token) or _same(_bearer(request), token)):
                raise web.HTTPUnauthorized(text="401: Unauthorized")
        response = await handler(request)
        if remember and token is not None and not response.prepared:
            # the link is opened once: from then on the cookie holds the token
            response.set_cookie(
                COOKIE, token, httponly=True, samesite="Strict", path="/", secure=request.secure
            )
        return response

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)
        response.headers.setdefault("Cache-Control", "no-store")

    app.middlewares.append(check_token)
    app.on_response_prepare.append(on_prepare)
