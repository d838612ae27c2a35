"""Who may look: the token of `[dashboard]`, and the headers every answer carries.

A request whose Host names neither the listen address nor `public_url`'s host is refused
first (421 and nothing else, /healthz too): DNS rebinding would otherwise let a page of
another site read the overview through the operator's own browser. The token comes once
as `?token=` (then a cookie keeps it, so a bookmark need not hold it) or as
`Authorization: Bearer`, on every address, loopback too. It is compared in constant
time. Without it the answer is 401 and nothing else; /healthz alone needs no token (a
load balancer asks it).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from snowbot.settings.dashboard_config import DashboardConfig

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
    """The Host and token checks before every handler, and the headers on every answer."""
    token = dashboard.token
    if token is None:
        raise ValueError("the overview is never served without a token")
    headers = {
        "Content-Security-Policy": content_policy(dashboard.tiles),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not dashboard.host_allowed(request.headers.get("Host")):
            raise web.HTTPMisdirectedRequest(text="421: Misdirected Request")
        remember = False
        if not _open(request.path):
            if _same(request.query.get("token"), token):
                remember = request.cookies.get(COOKIE) != token
            elif not (_same(request.cookies.get(COOKIE), token) or _same(_bearer(request), token)):
                raise web.HTTPUnauthorized(text="401: Unauthorized")
        response = await handler(request)
        if remember and not response.prepared:
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
