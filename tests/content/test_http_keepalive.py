"""A keep-alive connection the server closes while a request is on the way
(its idle timeout racing our reuse) is retried once on a new connection."""

from __future__ import annotations

import asyncio

from content.http_get import HttpGetClient, HttpGetError

BODY = b"hello"


async def _server(drop_second_request: bool):
    connections = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        served = 0
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            if served and drop_second_request:
                writer.close()  # the idle timer fired just as the request arrived
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + BODY)
            await writer.drain()
            served += 1
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], connections


def test_reused_connection_closed_by_server_is_retried_once():
    async def scenario():
        server, port, connections = await _server(drop_second_request=True)
        client = HttpGetClient(timeout=5)
        url = f"http://127.0.0.1:{port}/media/x"
        for _ in range(3):
            async with client.get(url) as response:
                assert response.status == 200
                assert await response.read() == BODY
        # first fetch, then every reuse was dropped and redone on a fresh connection
        assert len(connections) == 3
        await client.aclose()
        server.close()

    asyncio.run(scenario())


def test_a_fresh_connection_that_fails_is_not_retried():
    async def scenario():
        seen = []

        async def refuse(reader, writer):
            seen.append(writer)
            writer.close()

        server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = HttpGetClient(timeout=5)
        try:
            async with client.get(f"http://127.0.0.1:{port}/media/x"):
                raise AssertionError("no response expected")
        except HttpGetError:
            pass
        else:
            raise AssertionError("a closed fresh connection must fail")
        await asyncio.sleep(0.1)
        assert len(seen) == 1, "a failure on a new connection is the server's answer: no second try"
        server.close()

    asyncio.run(scenario())
