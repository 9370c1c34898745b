"""A small HTTP/1.1 GET client for the device cache.

Devices fetch only two things, from one server they know: a manifest and media
files, by hash, over HTTP on the intranet (HTTPS when the admin serves it,
trusting the site's local CA). A general client spends most
of a small fetch in its own machinery (on a 2-core box, httpx took ~60 % of an
endpoint's CPU per apply); this one does a GET with keep-alive, Content-Length
or chunked bodies, and nothing else. Redirects, compression and proxies are
deliberately out: the URL is content-addressed and the server is ours.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024


class HttpGetError(OSError):
    """Any failure to fetch: connection, protocol, timeout, TLS verification."""


@functools.lru_cache(maxsize=8)
def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """One verifying context per CA file and process: building one loads the
    CA bundle (~20 ms), too slow to do per device or per request."""
    if ca_file is not None and not Path(ca_file).is_file():
        raise HttpGetError(f"CA file not found: {ca_file}")
    return ssl.create_default_context(cafile=ca_file)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    _reader: asyncio.StreamReader
    _conn: "_Connection"
    _remaining: int | None = None
    _chunked: bool = False
    _done: bool = False
    timeout: float = 30.0  # per read: a server that stalls mid-body is a failure, not a hang

    async def iter_bytes(self, size: int = 256 * 1024) -> AsyncIterator[bytes]:
        if self._chunked:
            async for chunk in self._iter_chunked(size):
                yield chunk
        elif self._remaining is not None:
            while self._remaining > 0:
                data = await self._read(min(size, self._remaining))
                if not data:
                    raise HttpGetError("connection closed before the end of the body")
                self._remaining -= len(data)
                yield data
        else:  # body until close
            self._conn.reusable = False
            while data := await self._read(size):
                yield data
        self._done = True

    async def _read(self, size: int) -> bytes:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._reader.read(size)
        except asyncio.TimeoutError as exc:
            raise HttpGetError(f"no data for {self.timeout:.0f} s in the middle of a body") from exc

    async def _iter_chunked(self, size: int) -> AsyncIterator[bytes]:
        while True:
            async with asyncio.timeout(self.timeout):
                line = await self._reader.readline()
            try:
                length = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise HttpGetError(f"bad chunk size line {line[:40]!r}") from exc
            if length == 0:
                while (await self._reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            while length > 0:
                data = await self._read(min(size, length))
                if not data:
                    raise HttpGetError("connection closed inside a chunk")
                length -= len(data)
                yield data
            await self._reader.readexactly(2)

    async def read(self, limit: int | None = None) -> bytes:
        parts, total = [], 0
        async for chunk in self.iter_bytes():
            total += len(chunk)
            if limit is not None and total > limit:
                raise HttpGetError(f"body larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reusable: bool = True

    def close(self) -> None:
        self.writer.close()


class HttpGetClient:
    """Keeps one idle keep-alive connection per host:port (a device talks to
    one admin), so sequential fetches reuse it; parallel ones open more."""

    def __init__(self, *, timeout: float = 30.0, max_idle: int = 4, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.max_idle = max_idle
        self.ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}

    async def _connect(self, key: tuple[str, str, int], *, pooled: bool = True) -> tuple[_Connection, bool]:
        """A connection and whether it was reused from the pool."""
        scheme, host, port = key
        pool = self._idle.get(key) if pooled else None
        while pool:
            conn = pool.pop()
            if not conn.writer.is_closing() and not conn.reader.at_eof():
                return conn, True
            conn.close()
        tls = (self.ssl_context or tls_context()) if scheme == "https" else None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(host, port, ssl=tls,
                                                               server_hostname=host if tls else None)
        except ssl.SSLError as exc:
            raise HttpGetError(f"TLS with {host}:{port} failed (is the site CA configured?): {exc!r}") from exc
        except (OSError, asyncio.TimeoutError) as exc:
            raise HttpGetError(f"cannot connect to {host}:{port}: {exc!r}") from exc
        return _Connection(reader, writer), False

    async def _request_head(self, conn: _Connection, request: bytes, url: str) -> bytes:
        conn.writer.write(request)
        try:
            # asyncio.timeout, not wait_for: wait_for makes a task per call (3.11)
            async with asyncio.timeout(self.timeout):
                await conn.writer.drain()
                return await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise HttpGetError("connection closed before the response") from exc
        except asyncio.LimitOverrunError as exc:
            raise HttpGetError("response headers too large") from exc
        except (OSError, asyncio.TimeoutError) as exc:
            raise HttpGetError(f"request to {url} failed: {exc!r}") from exc

    def _release(self, key: tuple[str, str, int], conn: _Connection) -> None:
        pool = self._idle.setdefault(key, [])
        if conn.reusable and len(pool) < self.max_idle:
            pool.append(conn)
        else:
            conn.close()

    @asynccontextmanager
    async def get(self, url: str) -> AsyncIterator[Response]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpGetError(f"only http:// and https:// URLs are supported here, got {url!r}")
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = (f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: */*\r\n"
                   "User-Agent: dangjian-hall-device\r\n\r\n").encode("ascii")
        conn, reused = await self._connect(key)
        response: Response | None = None
        try:
            try:
                head = await self._request_head(conn, request, url)
            except HttpGetError as exc:
                if not reused or isinstance(exc.__cause__, (asyncio.TimeoutError, asyncio.LimitOverrunError)):
                    raise
                # The server closed this idle keep-alive connection (its idle
                # timeout) while our request was on the way: a GET is safe to
                # send once more, on a new connection. Seen as hundreds of
                # failed applies per round in the 5,000-device benchmark.
                conn.reusable = False
                conn.close()
                conn, _ = await self._connect(key, pooled=False)
                head = await self._request_head(conn, request, url)
            response = _parse_head(head, conn, self.timeout)
            yield response
            if not response._done:
                conn.reusable = False
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as exc:
            conn.reusable = False
            raise HttpGetError(f"reading {url} failed: {exc!r}") from exc
        except BaseException:
            conn.reusable = False
            raise
        finally:
            self._release(key, conn)

    async def aclose(self) -> None:
        for pool in self._idle.values():
            for conn in pool:
                conn.close()
        self._idle.clear()


def _parse_head(head: bytes, conn: _Connection, timeout: float) -> Response:
    if len(head) > MAX_HEADER_BYTES:
        raise HttpGetError("response headers too large")
    lines = head.decode("latin-1").split("\r\n")
    try:
        version, status, *_ = lines[0].split(" ", 2)
        code = int(status)
    except (ValueError, IndexError) as exc:
        raise HttpGetError(f"bad status line {lines[0][:60]!r}") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
        conn.reusable = False
    response = Response(code, headers, conn.reader, conn, timeout=timeout)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        response._chunked = True
    elif "content-length" in headers:
        try:
            response._remaining = int(headers["content-length"])
        except ValueError as exc:
            raise HttpGetError("bad Content-Length") from exc
    elif code in (204, 304) or 100 <= code < 200:
        response._remaining = 0
    return response
