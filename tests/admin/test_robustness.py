"""Bad conditions: a locked database is waited for, a broker that is down at
publish time gets the desired state when it comes back."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from broker import messages as m


def test_locked_database_is_waited_for_not_failed(hall, news):
    db_file = hall.ctx.settings.db_url.removeprefix("sqlite:///")
    blocker = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # hold the write lock
    released = threading.Event()

    def release_later() -> None:
        time.sleep(1.0)
        blocker.execute("COMMIT")
        released.set()

    threading.Thread(target=release_later, daemon=True).start()
    r = hall["editor"].post("/api/items", json={"data": news("锁等待")})
    assert released.is_set()
    assert r.status_code == 201, r.text
    blocker.close()


def test_publish_while_broker_is_down_goes_out_when_it_returns(tmp_path, template_dir, make_settings, news):
    import shutil
    import socket

    from broker.client import HallClient
    from broker.embedded import EmbeddedBroker, broker_config

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root, tokens = template_dir
    shutil.copytree(root / "data", tmp_path / "data")

    async def scenario() -> tuple[dict, list[m.DesiredState]]:
        import httpx

        from admin.app import build_context, create_app

        settings = make_settings(tmp_path, mqtt_enabled=True, mqtt_port=port)
        app = create_app(ctx=build_context(settings))
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=transport, base_url="http://admin") as client:
                auth = {"Authorization": f"Bearer {tokens['publisher']}"}
                result = (await client.post("/api/groups/lobby/publish", headers=auth)).json()
                pending = (await client.get("/api/groups", headers=auth)).json()
            broker = EmbeddedBroker(broker_config(host="127.0.0.1", port=port, fleet=None, password_file=None,
                                                  allow_anonymous=True))
            await broker.start()
            seen: list[m.DesiredState] = []

            async def on_desired(msg: m.DesiredState) -> None:
                seen.append(msg)

            listener = HallClient(settings.model_copy(update={"mqtt_username": None}), client_id="listener",
                                  kind="bench", availability=False)
            listener.subscribe(m.DesiredState, on_desired, group="lobby")
            await listener.start()
            deadline = time.monotonic() + 40
            while not seen and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await listener.stop()
            await broker.stop()
        return {"result": result, "pending": pending}, seen

    info, seen = asyncio.run(scenario())
    assert info["result"]["changed"] and info["result"]["delivered"] is False
    assert "排队" in info["result"]["message"]
    assert next(g for g in info["pending"] if g["name"] == "lobby")["publish_pending"] is True
    assert seen and seen[0].version == info["result"]["version"]
    assert seen[0].manifest_sha256 == info["result"]["manifest_sha256"]


def test_retry_middleware_replays_a_locked_write():
    from admin.retry import RetryLockedMiddleware

    calls: list[bytes] = []
    app = FastAPI()

    @app.post("/w")
    async def write(request: Request) -> JSONResponse:
        calls.append(await request.body())
        if len(calls) < 3:
            return JSONResponse({"detail": "busy"}, status_code=503, headers={"X-DB-Locked": "1"})
        return JSONResponse({"ok": True}, status_code=201)

    app.add_middleware(RetryLockedMiddleware, first_delay_s=0.01)
    r = TestClient(app).post("/w", json={"a": "党"})
    assert r.status_code == 201 and len(calls) == 3
    assert all(c == calls[0] for c in calls) and b"a" in calls[0]
    assert "x-db-locked" not in r.headers
