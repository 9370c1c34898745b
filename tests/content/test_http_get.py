"""The device's small HTTP GET client, against uvicorn and hand-written servers."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from admin.media import MediaServer
from content.http_get import HttpGetClient, HttpGetError
from content.store import MediaStore


@pytest.fixture
def media(tmp_path):
    store = MediaStore(tmp_path / "store")
    small = store.put_bytes(b"{\"hello\": 1}")
    big_bytes = os.urandom(3 * 1024 * 1024)  # over the fast path: streamed by FileResponse
    big = store.put_bytes(big_bytes)
    server = MediaServer(store).start()
    yield server, small, big, big_bytes
    server.stop()


def test_get_small_and_big_with_keep_alive(media):
    server, small, big, big_bytes = media

    async def scenario():
        client = HttpGetClient()
        async with client.get(f"{server.url}/media/{small}") as r:
            assert r.status == 200 and await r.read() == b"{\"hello\": 1}"
            assert r.headers["etag"] == f'"{small}"'
        async with client.get(f"{server.url}/media/{big}") as r:
            digest = hashlib.sha256()
            async for chunk in r.iter_bytes():
                digest.update(chunk)
            assert digest.hexdigest() == big
        # both requests went over one kept-alive connection
        assert sum(len(p) for p in client._idle.values()) == 1
        async with client.get(f"{server.url}/media/{'0' * 64}") as r:
            assert r.status == 404
            await r.read()
        await client.aclose()

    asyncio.run(scenario())


async def _raw_server(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_chunked_body_and_connection_closed_mid_body():
    async def chunked(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def truncated(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
        await writer.drain()
        writer.close()

    async def stalls(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst bytes")
        await writer.drain()
        await asyncio.sleep(30)

    async def scenario():
        s3, p3 = await _raw_server(stalls)
        with pytest.raises(HttpGetError, match="no data"):
            async with HttpGetClient(timeout=0.5).get(f"http://127.0.0.1:{p3}/x") as r:
                await r.read()
        s3.close()
        s1, p1 = await _raw_server(chunked)
        s2, p2 = await _raw_server(truncated)
        client = HttpGetClient(timeout=5)
        async with client.get(f"http://127.0.0.1:{p1}/x") as r:
            assert await r.read() == b"hello world"
        with pytest.raises(HttpGetError):
            async with client.get(f"http://127.0.0.1:{p2}/x") as r:
                await r.read()
        with pytest.raises(HttpGetError):
            async with client.get("http://127.0.0.1:1/x"):
                pass
        with pytest.raises(HttpGetError):
            async with client.get("https://example.invalid/x"):
                pass
        s1.close()
        s2.close()

    asyncio.run(scenario())
