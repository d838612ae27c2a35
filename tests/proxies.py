"""Local proxies for the tests: SOCKS5 and a plain HTTP forward proxy on 127.0.0.1.

Each resolves the host names it is given through its own table, so a test can name a
server by a host name that does not resolve on this machine: the bot can then reach
it only through the proxy. Each counts the connections it carried and where to.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import struct
import time
from urllib.parse import urlsplit


class LocalProxy:
    """`kind` is "socks5" or "http"; `hosts` maps names to the addresses they stand for."""

    def __init__(self, kind: str, hosts: dict[str, str], user: str = "", password: str = ""):
        self.kind = kind
        self.hosts = hosts
        self.user, self.password = user, password
        self.carried: list[tuple[str, int]] = []
        self.refused = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        login = f"{self.user}:{self.password}@" if self.user else ""
        return f"{self.kind}://{login}127.0.0.1:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.kind == "socks5":
                await self._socks5(reader, writer)
            else:
                await self._http(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    def _resolve(self, host: str, port: int) -> tuple[str, int]:
        address = self.hosts.get(host, host)
        self.carried.append((host, port))
        return address, port

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 2 if self.user else 0
        if version != 5 or wanted not in methods:
            writer.write(b"\x05\xff")
            self.refused += 1
            return
        writer.write(bytes([5, wanted]))
        if wanted == 2:
            _, size = await reader.readexactly(2)
            user = (await reader.readexactly(size)).decode()
            (size,) = await reader.readexactly(1)
            password = (await reader.readexactly(size)).decode()
            ok = (user, password) == (self.user, self.password)
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                self.refused += 1
                return
        _, command, _, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 3:
            (size,) = await reader.readexactly(1)
            host = (await reader.readexactly(size)).decode()
        else:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != 1:  # CONNECT only
            writer.write(b"\x05\x07\x00\x01" + bytes(6))
            return
        upstream = await asyncio.open_connection(*self._resolve(host, port))
        writer.write(b"\x05\x00\x00\x01" + bytes(6))
        await _pipe(reader, writer, *upstream)

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *header_lines = head[:-4].split("\r\n")
        method, target, version = request_line.split(" ")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = await asyncio.open_connection(*self._resolve(host, int(port)))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await _pipe(reader, writer, *upstream)
            return
        url = urlsplit(target)
        path = url.path + (f"?{url.query}" if url.query else "")
        # one request per connection: the origin is asked to close, so its answer ends it
        kept = [
            line
            for line in header_lines
            if not line.lower().startswith(("connection:", "proxy-", "keep-alive:"))
        ]
        upstream = await asyncio.open_connection(*self._resolve(url.hostname or "", url.port or 80))
        upstream[1].write(
            "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""]).encode(
                "latin-1"
            )
        )
        await _pipe(reader, writer, *upstream)


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until the far side is done; then both connections close."""

    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()

    upward = asyncio.create_task(copy(reader, up_writer))
    try:
        await copy(up_reader, writer)
    finally:
        upward.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upward
        up_writer.close()


class CuttableProxy:
    """A TCP relay to one server (PostgreSQL) whose cable can be cut.

    `cut()` stops forwarding both ways at once and keeps every socket open: no FIN, no
    RST, as when a cable is cut; connections made after it are taken and never answered.
    `cut_after(pattern, nth)` cuts just after the nth client chunk holding `pattern` went
    through (a statement whose transaction then stays open on the server, with its locks).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.cut_at = 0.0  # time.time() of the cut
        self.is_cut = asyncio.Event()
        self.carried = 0
        self._pattern, self._left = b"", 0
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._held: list[asyncio.StreamWriter] = []

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        """Close everything (only now do the cut connections end)."""
        for pump in self._pumps:
            pump.cancel()
        for writer in self._held:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut_after(self, pattern: bytes, nth: int = 1) -> None:
        self._pattern, self._left = pattern, nth

    def cut(self) -> None:
        if self.is_cut.is_set():
            return
        self.cut_at = time.time()
        self.is_cut.set()
        for pump in self._pumps:
            pump.cancel()  # nothing read any more: the peers' data waits in the buffers

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._held.append(writer)
        if self.is_cut.is_set():
            return  # taken, never answered
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self._held.append(up_writer)
        self.carried += 1
        for source, sink, watched in ((reader, up_writer, True), (up_reader, writer, False)):
            pump = asyncio.create_task(self._pump(source, sink, watched))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, watched: bool
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await source.read(65536):
                sink.write(chunk)
                if watched and self._left and self._pattern in chunk:
                    self._left -= 1
                    if not self._left:
                        self.cut()
                        return
                await sink.drain()
        if not self.is_cut.is_set():
            sink.close()  # a peer hung up before the cut: so does the other side
