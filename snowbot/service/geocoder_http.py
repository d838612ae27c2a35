"""geopy's requests made with httpx, the HTTP client python-telegram-bot uses.

geopy lets a geocoder take any adapter (its documented extension point); this one
exists so that the geocoder goes through the same `[telegram] proxy` as the Bot API,
SOCKS5 included, where Telegram and OpenStreetMap cannot be reached directly.
"""

from __future__ import annotations

from typing import Any

import httpx
from geopy.adapters import AdapterHTTPError, BaseAsyncAdapter
from geopy.exc import (
    GeocoderParseError,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeocoderUnavailable,
)


class HttpxAdapter(BaseAsyncAdapter):  # type: ignore[misc]
    """A geopy async adapter on one httpx client, optionally through a proxy."""

    def __init__(self, *, proxies: dict[str, str] | None, ssl_context: Any, proxy: str | None):
        super().__init__(proxies=proxies, ssl_context=ssl_context)
        self._client = httpx.AsyncClient(proxy=proxy, trust_env=False)

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        response = await self._get(url, timeout, headers)
        return response.text

    async def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        response = await self._get(url, timeout, headers)
        try:
            return response.json()
        except ValueError:
            raise GeocoderParseError(f"not JSON: {response.text[:200]!r}") from None

    async def _get(self, url: str, timeout: float, headers: dict[str, str]) -> httpx.Response:
        try:
            response = await self._client.get(url, timeout=timeout, headers=headers)
        except httpx.TimeoutException:
            raise GeocoderTimedOut("service timed out") from None
        except (httpx.NetworkError, httpx.ProxyError) as exc:
            raise GeocoderUnavailable(str(exc)) from None
        except httpx.HTTPError as exc:
            raise GeocoderServiceError(str(exc)) from None
        if response.status_code >= 400:
            raise AdapterHTTPError(
                f"Non-successful status code {response.status_code}",
                status_code=response.status_code,
                headers=dict(response.headers),
                text=response.text,
            )
        return response
