"""Looking up places that are not in the gazetteer (optional, off by default).

With `[geo] geocoder = "nominatim"`, a `/newtask` name that is no street is looked
up with geopy's Nominatim, at most one request a second as Nominatim's usage
policy asks, and never for longer than `geocoder_timeout`. Any failure is just
"not found": the dispatcher then gets suggestions from the gazetteer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Protocol

from snowbot.settings.config import GeoConfig

log = logging.getLogger("snowbot.service.geocoding")

Box = tuple[tuple[float, float], tuple[float, float]]  # (south-west, north-east) as (lat, lon)


class Geocoder(Protocol):
    async def locate(self, query: str, box: Box | None) -> tuple[float, float] | None:
        """(lat, lon) of the place, preferring the city's box; None when not found."""
        ...

    async def close(self) -> None: ...


class NominatimGeocoder:
    """geopy's Nominatim on httpx (through the proxy, if any), one request a second, with a
    timeout."""

    def __init__(self, config: GeoConfig, proxy: str | None = None) -> None:
        from geopy.extra.rate_limiter import AsyncRateLimiter
        from geopy.geocoders import Nominatim

        from snowbot.service.geocoder_http import HttpxAdapter

        self._timeout = config.geocoder_timeout.total_seconds()
        # "host", or "http://host:port" for a self-hosted server without TLS
        scheme, _, domain = config.geocoder_domain.rpartition("://")
        self._nominatim = Nominatim(
            user_agent=config.user_agent,
            domain=domain,
            scheme=scheme or "https",
            timeout=self._timeout,
            adapter_factory=functools.partial(HttpxAdapter, proxy=proxy),
        )
        self._geocode: Any = AsyncRateLimiter(
            self._nominatim.geocode,
            min_delay_seconds=1.0,
            max_retries=0,
            swallow_exceptions=False,
        )

    async def locate(self, query: str, box: Box | None) -> tuple[float, float] | None:
        from geopy.exc import GeopyError

        try:
            found = await asyncio.wait_for(
                self._geocode(query, exactly_one=True, viewbox=box, bounded=box is not None),
                timeout=self._timeout + 1.5,  # the rate limiter's wait counts too
            )
        except (GeopyError, TimeoutError, OSError) as exc:
            log.warning("geocoding %r failed: %s", query, exc)
            return None
        if found is None:
            return None
        return float(found.latitude), float(found.longitude)

    async def close(self) -> None:
        await self._nominatim.adapter.__aexit__(None, None, None)


def geocoder_for(config: GeoConfig, proxy: str | None = None) -> Geocoder | None:
    """The configured geocoder, or None when geocoding is off."""
    if config.geocoder == "nominatim":
        return NominatimGeocoder(config, proxy)
    return None
