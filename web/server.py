"""The overview's HTTP server: aiohttp's, run by the bot's own event loop beside polling.

Every path answers GET (and HEAD) only; anything else is 405, unknown paths 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from snowbot.service import Snowbot
from snowbot.service.miniapp import MiniApp
from snowbot.settings.dashboard_config import DashboardConfig
from snowbot.settings.doors import Doors
from snowbot.settings.errors import ConfigError
from web.access import install
from web.live import HEARTBEAT, Board, Feed, Kept, Screen
from web.metrics import CONTENT_TYPE, exposition
from web.miniapp import mount
from web.page import language, page

log = logging.getLogger("snowbot.text.overview")
STATIC = Path(__file__).parent / "static"
MAX_SCREENS = 1000  # live feeds at once; more are told to come back (503)
SERVICE = web.AppKey("service", Snowbot)
BOARD = web.AppKey("board", Board)
FEED = web.AppKey("feed", Feed)
DASHBOARD = web.AppKey("dashboard", DashboardConfig)


def build_app(
    service: Snowbot,
    dashboard: DashboardConfig,
    doors: Doors,
    miniapp: MiniApp | None = None,
    photo_dir: Path | None = None,
) -> web.Application:
    # no bodies but the Mini App's small acts; the doors count every request first
    app = web.Application(client_max_size=4096, middlewares=[doors.middleware])
    board = Board(service)
    app[SERVICE], app[BOARD], app[FEED], app[DASHBOARD] = service, board, Feed(board), dashboard
    install(app, dashboard)
    app.router.add_get("/", overview_page)
    app.router.add_get("/api/tally", tally)
    app.router.add_get("/api/streets", streets)
    app.router.add_get("/api/street-states", street_states)
    app.router.add_get("/api/positions", positions)
    app.router.add_get("/api/turnout", turnout)
    app.router.add_get("/api/reports", reports)
    app.router.add_get("/api/events", events)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", STATIC, follow_symlinks=False, show_index=False)
    if miniapp is not None:  # the Mini App (docs/commands.md "The Mini App"), when the bot runs
        # beside
        mount(app, service, miniapp, dashboard, photo_dir)
    return app


def _served(request: web.Request, kept: Kept, content_type: str) -> web.Response:
    """A kept body: 304 when the screen has it, gzipped when the screen takes gzip."""
    headers = {"ETag": kept.etag, "Vary": "Accept-Encoding", "Cache-Control": "no-cache"}
    if request.headers.get("If-None-Match") == kept.etag:
        return web.Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=kept.gzipped, content_type=content_type, headers=headers)
    return web.Response(body=kept.body, content_type=content_type, headers=headers)


async def overview_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    lang = language(request.query.get("lang"), service.config.language)
    incident = await service.incident()
    html = page(
        lang,
        service.config.city.display_name(lang),
        incident.name,
        request.app[DASHBOARD].tiles,
        timezone=service.config.city.timezone.key,
    )
    return web.Response(text=html, content_type="text/html")


async def tally(request: web.Request) -> web.Response:
    _, kept = await request.app[BOARD].tally()
    return _served(request, kept, "application/json")


async def streets(request: web.Request) -> web.Response:
    return _served(request, await request.app[BOARD].streets(), "application/geo+json")


async def street_states(request: web.Request) -> web.Response:
    return _served(request, await request.app[BOARD].street_states(), "application/json")


async def positions(request: web.Request) -> web.Response:
    return _served(request, await request.app[BOARD].positions(), "application/json")


async def turnout(request: web.Request) -> web.Response:
    return _served(request, await request.app[BOARD].turnout(), "application/json")


async def reports(request: web.Request) -> web.Response:
    return _served(request, await request.app[BOARD].reports(), "application/json")


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: the tally now, then again after every change."""
    feed = request.app[FEED]
    if feed.closed or len(feed.screens) >= MAX_SCREENS:
        raise web.HTTPServiceUnavailable(text="503: too many screens, try again later")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
    )
    screen = Screen()
    feed.screens.add(screen)
    try:
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n" + await feed.event())
        while not feed.closed:
            event = await screen.next(HEARTBEAT)
            if feed.closed:
                break
            await response.write(event or b": still here\n\n")
    except (ConnectionError, RuntimeError):
        pass  # the screen went away: nothing to clean up but its slot
    finally:
        feed.screens.discard(screen)
    return response


async def metrics(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    tally_now, _ = await request.app[BOARD].tally()
    body = exposition(
        tally_now.as_json(),
        service.health,
        await service.outbox_backlog(),
        len(request.app[FEED].screens),
    )
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def healthz(request: web.Request) -> web.Response:
    if await request.app[SERVICE].database_reachable():
        return web.Response(text="ok")
    return web.Response(status=503, text="database unreachable")


class Overview:
    """The overview served on `[dashboard] listen`, started and stopped with the bot."""

    def __init__(
        self,
        service: Snowbot,
        dashboard: DashboardConfig,
        miniapp: MiniApp | None = None,
        photo_dir: Path | None = None,
    ) -> None:
        self.service = service
        # never open: `snowbot run` gives it the derived token, anyone else a fresh one
        self.dashboard = (
            dashboard if dashboard.token else replace(dashboard, token=secrets.token_urlsafe(24))
        )
        dashboard = self.dashboard
        self.doors = Doors.of("the overview", service.config.http)
        self.app = build_app(service, dashboard, self.doors, miniapp, photo_dir)
        self.runner = self.doors.runner(self.app, handler_cancellation=True)
        self.address = ""
        self._warm: asyncio.Task[None] | None = None

    @property
    def feed(self) -> Feed:
        return self.app[FEED]

    async def start(self) -> str:
        """Listen; returns the address ("http://127.0.0.1:8080"). ConfigError if it cannot."""
        await self.runner.setup()
        try:
            host, port = await self.doors.serve(
                self.runner, self.dashboard.host, self.dashboard.port
            )
        except OSError as exc:
            await self.runner.cleanup()
            raise ConfigError(
                f"dashboard.listen: cannot listen on {self.dashboard.listen} "
                f'({exc.strerror or exc}); choose another address or "" to turn it off'
            ) from None
        self.feed.start()
        # the city's streets are serialised once, now rather than for the first screen
        self._warm = asyncio.create_task(self._warm_up(), name="overview-warm-up")
        self.address = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self.service.overview_address = self.address
        self.service.overview_token = self.dashboard.token
        log.info("the overview is at %s", self.address)
        return self.address

    def link(self) -> str:
        """The address with the token, to open once."""
        return f"{self.address}/?token={quote(self.dashboard.token or '', safe='')}"

    async def _warm_up(self) -> None:
        try:
            await self.app[BOARD].streets()
        except Exception as exc:  # the first screen tries again
            log.warning("the overview could not prepare the streets: %r", exc)

    async def stop(self) -> None:
        if self._warm is not None and not self._warm.done():
            self._warm.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warm
        await self.feed.close()
        await self.doors.close()
        await self.runner.cleanup()
