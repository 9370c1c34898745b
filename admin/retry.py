"""Retry a write request whose transaction met a locked SQLite database.

SQLite's busy timeout covers most waits, but a transaction that has read and
then needs to write is refused at once when another connection holds the
write lock (waiting could deadlock). Nothing was committed then, so the whole
request can safely run again: this ASGI middleware buffers the request body
and replays the request a few times with back-off before giving up with 503.
"""

from __future__ import annotations

import asyncio
from typing import Any

LOCKED_HEADER = b"x-db-locked"
SAFE = {"GET", "HEAD", "OPTIONS"}


class RetryLockedMiddleware:
    def __init__(self, app: Any, attempts: int = 4, first_delay_s: float = 0.1) -> None:
        self.app = app
        self.attempts = attempts
        self.first_delay_s = first_delay_s

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        delay = self.first_delay_s
        for attempt in range(self.attempts):
            sent: list[dict] = []
            replayed = False

            async def replay() -> dict:
                nonlocal replayed
                if replayed:
                    return await receive()  # waits for the client's disconnect
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}

            async def capture(message: dict) -> None:
                sent.append(message)

            await self.app(scope, replay, capture)
            start = next((m for m in sent if m["type"] == "http.response.start"), None)
            locked = start is not None and any(k == LOCKED_HEADER for k, _ in start.get("headers", []))
            if not locked or attempt == self.attempts - 1:
                for message in sent:
                    if message["type"] == "http.response.start" and locked:
                        message = {**message, "headers": [(k, v) for k, v in message["headers"]
                                                          if k != LOCKED_HEADER]}
                    await send(message)
                return
            await asyncio.sleep(delay)
            delay *= 2
