"""The Mini App over HTTP (docs/commands.md "The Mini App"): its page at `/app`, its script and
style, and its API.

Every API call carries Telegram's signed initData (`Authorization: tma <initData>`),
checked each time (`snowbot.service.init_data`); anything else is 401 and changes nothing. No
token travels in any URL. Reads go through the service (`snowbot.service.miniapp`); acts through
the `Actions` the composition root supplies, as the person's own updates.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from snowbot.domain.roles import Role
from snowbot.service import Snowbot
from snowbot.service.init_data import AppUser, validate
from snowbot.service.miniapp import (
    PRESSES,
    MiniApp,
    may_see_proof,
    may_see_report_photo,
    person_of,
    view,
)
from snowbot.settings.dashboard_config import DashboardConfig
from web.access import COOKIE
from web.miniapp.page import app_page
from web.miniapp.photos import PhotoCache

log = logging.getLogger("snowbot.service.miniapp")
STATIC = Path(__file__).parent / "static"
LEAFLET = Path(__file__).parent.parent / "static" / "vendor" / "leaflet"
PREFIX = "/app"
MINIAPP = web.AppKey("miniapp", MiniApp)
APP_SERVICE = web.AppKey("miniapp_service", Snowbot)
PHOTOS = web.AppKey("miniapp_photos", PhotoCache)
APP_DASHBOARD = web.AppKey("miniapp_dashboard", DashboardConfig)
MAX_NEEDED = 999  # people a task posted from the app may ask for
# Telegram's web clients show the app in a frame; its phone apps in a web view
FRAMED_BY = "https://web.telegram.org"


def is_app_path(path: str) -> bool:
    """The app's paths check initData themselves, not the overview's token."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def mount(
    app: web.Application,
    service: Snowbot,
    miniapp: MiniApp,
    dashboard: DashboardConfig,
    cache: Path | None,
) -> None:
    """The app's routes on the overview's server (`dashboard`: the one it serves)."""
    app[MINIAPP], app[APP_SERVICE], app[APP_DASHBOARD] = miniapp, service, dashboard
    app[PHOTOS] = PhotoCache(miniapp.photos, cache, dashboard.photo_cache_mb * 1024 * 1024)
    app.router.add_get(PREFIX, page)
    app.router.add_get(PREFIX + "/api/view", api_view)
    app.router.add_post(PREFIX + "/api/act", api_act)
    app.router.add_post(PREFIX + "/api/overview", api_overview)
    app.router.add_get(PREFIX + "/api/photo/report/{id:[0-9]{1,9}}", api_report_photo)
    app.router.add_get(PREFIX + "/api/photo/task/{id:[0-9]{1,9}}", api_proof_photo)
    # the overview's street details (behind the overview's token, like all of /api)
    app.router.add_get("/api/street/{id:[0-9]{1,9}}/proofs", street_proofs)
    app.router.add_get("/api/photo/task/{id:[0-9]{1,9}}", overview_proof_photo)
    app.router.add_static(PREFIX + "/static", STATIC, follow_symlinks=False, show_index=False)
    app.router.add_static(PREFIX + "/leaflet", LEAFLET, follow_symlinks=False, show_index=False)
    app.on_response_prepare.append(_framed)


async def _framed(request: web.Request, response: web.StreamResponse) -> None:
    """The app may be framed by Telegram's web client (the overview by nobody), and shows
    photos it fetched with its initData header (as blob: addresses)."""
    if is_app_path(request.path):
        policy = response.headers.get("Content-Security-Policy", "")
        policy = policy.replace("frame-ancestors 'none'", f"frame-ancestors {FRAMED_BY}")
        response.headers["Content-Security-Policy"] = policy.replace(
            "img-src 'self' data:", "img-src 'self' data: blob:"
        )


def signed_in(request: web.Request) -> AppUser:
    """The user whose initData this request carries, or 401."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    user = None
    if scheme.lower() == "tma":
        service = request.app[APP_SERVICE]
        user = validate(value.strip(), request.app[MINIAPP].bot_token, service.clock())
    if user is None:
        raise web.HTTPUnauthorized(text="401: Unauthorized")
    return user


def _json(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=body, status=status, content_type="application/json")


async def page(request: web.Request) -> web.Response:
    service = request.app[APP_SERVICE]
    html = app_page(service.config.language, request.app[APP_DASHBOARD].tiles)
    return web.Response(text=html, content_type="text/html")


async def api_view(request: web.Request) -> web.Response:
    user = signed_in(request)
    return _json(await view(request.app[APP_SERVICE], user))


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text="400: the body is not JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="400: the body is not a JSON object")
    return data


def _number(data: dict[str, Any], key: str, most: int) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise web.HTTPBadRequest(text=f"400: {key} must be a whole number from 1 to {most}")
    return value


async def api_act(request: web.Request) -> web.Response:
    """{"do": "accept"|"release"|"done"|"make_task"|"dismiss", "id": N} or
    {"do": "post", "street": ID, "needed": N}: the chat's press or command, as this person."""
    user = signed_in(request)  # before the body: a stranger's body is never read
    data = await _body(request)
    actions = request.app[MINIAPP].actions
    act = data.get("do")
    if act == "post":
        outcome = await actions.post(
            user, _number(data, "street", 999_999_999), _number(data, "needed", MAX_NEEDED)
        )
    elif isinstance(act, str) and act in PRESSES:
        outcome = await actions.press(user, act, _number(data, "id", 999_999_999))
    else:
        raise web.HTTPBadRequest(text="400: unknown act")
    return _json({"ok": outcome.ok, "text": outcome.text, "task": outcome.task_id})


async def api_overview(request: web.Request) -> web.Response:
    """A coordinator opens the overview: its cookie is set here, never a token in a URL."""
    user = signed_in(request)
    service = request.app[APP_SERVICE]
    person = await person_of(service, user)
    if person.role < Role.COORDINATOR:
        raise web.HTTPForbidden(text="403: coordinators only")
    response = _json({"url": "/"})
    token = request.app[APP_DASHBOARD].token  # the served overview's, maybe made at start
    if token:
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="Strict", path="/", secure=request.secure
        )
    return response


async def api_report_photo(request: web.Request) -> web.Response:
    """An open report's photo, for a dispatcher who may see the report; else 404."""
    user = signed_in(request)
    report_id = int(request.match_info["id"])
    return await _photo(
        request, await may_see_report_photo(request.app[APP_SERVICE], user, report_id)
    )


async def api_proof_photo(request: web.Request) -> web.Response:
    """A done task's proof photo, for a dispatcher who may see the task; else 404."""
    user = signed_in(request)
    task_id = int(request.match_info["id"])
    return await _photo(request, await may_see_proof(request.app[APP_SERVICE], user, task_id))


async def street_proofs(request: web.Request) -> web.Response:
    """The overview: a street's done tasks with proof photos, the latest first."""
    found = await request.app[APP_SERVICE].street_proofs(int(request.match_info["id"]))
    return _json([{"task": task.id, "done_at": task.done_at} for task, _ in found[:12]])


async def overview_proof_photo(request: web.Request) -> web.Response:
    """The overview: a done task's proof photo."""
    task = await request.app[APP_SERVICE].task(int(request.match_info["id"]))
    found = await request.app[APP_SERVICE].street_proofs(task.street_id) if task else []
    return await _photo(request, next((f for t, f in found if task and t.id == task.id), None))


async def _photo(request: web.Request, file_id: str | None) -> web.Response:
    if file_id is None:
        raise web.HTTPNotFound(text="404: no such photo")
    body = await request.app[PHOTOS].get(file_id)
    if body is None:
        raise web.HTTPNotFound(text="404: the photo cannot be fetched now")
    return web.Response(
        body=body, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )
