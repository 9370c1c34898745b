"""Secrets never reach a log or the audit log: a real admin on uvicorn (access
log on, every logger at DEBUG) and a real broker; users log in, get API
tokens, a device is provisioned (its MQTT password), a member's PIN is set and
then typed at a kiosk. No password, token, cookie, CSRF token or PIN appears
in any log record of the admin, uvicorn, the fleet bus or SQLAlchemy, nor in
any audit row."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import threading
import time

import httpx

from broker import messages as m

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "Zq8-secret-pass-Xv3"
PIN = "864209"


# The test's own HTTP client (httpx/httpcore at DEBUG dump the headers they
# receive, the session cookie among them) and the test broker are not the
# admin; every other logger is captured.
NOT_THE_ADMIN = ("httpx", "httpcore", "amqtt", "transitions")


class AllRecords(logging.Handler):
    """Every record of every logger but the test's own client and broker,
    formatted with its arguments and any traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(NOT_THE_ADMIN):
            self.lines.append(self.format(record))


def serve(app, port: int):
    import uvicorn

    # log_config=None: uvicorn leaves logging alone, so its access and error
    # loggers propagate to the capturing root handler at DEBUG.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="debug",
                                           access_log=True, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    return server, thread


def test_no_secret_in_any_log_or_audit_row(tmp_path, template_dir, mqtt_broker):
    from admin.app import build_context, create_app
    from broker.client import HallClient
    from tests.admin.conftest import _free_port, admin_settings

    shutil.copytree(template_dir[0] / "data", tmp_path / "data")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = admin_settings(tmp_path, mqtt_enabled=True, mqtt_host=mqtt_broker.host, mqtt_port=mqtt_broker.port,
                              admin_url=url)
    capture = AllRecords()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    quiet = {name: logging.getLogger(name).level for name in ("amqtt", "transitions", "sqlalchemy.engine")}
    # An earlier uvicorn in this process (default log config) may have cut its
    # loggers off from the root; put them back for this test.
    uvicorn_loggers = {name: (logging.getLogger(name).propagate, logging.getLogger(name).disabled)
                       for name in ("uvicorn", "uvicorn.access", "uvicorn.error")}
    for name in uvicorn_loggers:
        logging.getLogger(name).propagate = True
        logging.getLogger(name).disabled = False
    # The test broker is not the admin's: its packet dumps are out of scope here
    # (see docs/security.md). SQLAlchemy's engine log is in scope, at INFO,
    # where it writes every statement with its parameters.
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    secrets: dict[str, str] = {"password": PASSWORD, "new password": NEW_PASSWORD, "pin": PIN}
    ctx = build_context(settings)
    server, thread = serve(create_app(ctx=ctx), port)
    try:
        # Browser login: session cookie and CSRF token.
        web = httpx.Client(base_url=url, timeout=10)
        assert web.post("/login", data={"name": "bianji", "password": PASSWORD}).status_code in (200, 303)
        secrets["session cookie"] = web.cookies["hall_session"]
        secrets["csrf"] = re.search(r'name="csrf" content="([^"]+)"', web.get("/").text).group(1)
        # A failed login logs the attempt, never the password tried.
        assert web.post("/api/auth/token", json={"name": "bianji", "password": "wrong-" + PASSWORD}).status_code == 401
        secrets["wrong password"] = "wrong-" + PASSWORD
        # API tokens.
        token = httpx.post(f"{url}/api/auth/token", json={"name": "guanli", "password": PASSWORD}).json()["access_token"]
        secrets["admin token"] = token
        admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        editor_token = httpx.post(f"{url}/api/auth/token",
                                  json={"name": "bianji", "password": PASSWORD}).json()["access_token"]
        secrets["editor token"] = editor_token
        editor = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {editor_token}"}, timeout=10)
        # A new user with a password, then a password change.
        created = admin.post("/api/users", json={"name": "xinren", "role": "editor", "password": NEW_PASSWORD})
        assert created.status_code == 201
        assert admin.patch(f"/api/users/{created.json()['id']}",
                           json={"password": NEW_PASSWORD[::-1]}).status_code == 200
        secrets["changed password"] = NEW_PASSWORD[::-1]
        # A device and its MQTT password, then its screenshot upload with Basic auth.
        device = admin.post("/api/devices", json={"id": "kiosk-s1", "kind": "kiosk", "groups": ["lobby"]})
        assert device.status_code == 201, device.text
        secrets["device password"] = device.json()["config"]["HALL_MQTT_PASSWORD"]
        # A member's PIN, set through the API and typed at a kiosk (MQTT).
        assert editor.post("/api/members", json={"id": "ms", "name": "秦明", "member_no": "00077"}).status_code == 201
        assert editor.put("/api/members/ms/pin", json={"pin": PIN}).status_code == 204
        acks: list[m.PointsAck] = []

        async def kiosk() -> None:
            async def on_ack(ack: m.PointsAck) -> None:
                acks.append(ack)

            client = HallClient(mqtt_broker.settings(site_id="test-site"), client_id="kiosk-s1", kind="kiosk")
            client.subscribe(m.PointsAck, on_ack, device_id="kiosk-s1")
            await client.start()
            assert await client.wait_connected(10)
            await asyncio.sleep(0.3)
            for pin in ("000000", PIN):
                client.publish(m.LearningPoints(site_id="test-site", device_id="kiosk-s1", member_no="00077",
                                                points=3, reason="测验", pin=pin))
                deadline = time.monotonic() + 15
                wanted = len(acks) + 1
                while len(acks) < wanted and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
            await client.stop()

        asyncio.run(kiosk())
        assert [a.accepted for a in acks] == [False, True]
        audit_rows = httpx.get(f"{url}/api/audit/export.csv", headers={"Authorization": f"Bearer {token}"}).text
        web.post("/logout", data={"csrf_token": secrets["csrf"]})
    finally:
        server.should_exit = True
        thread.join(10)
        ctx.engine.dispose()
        root.removeHandler(capture)
        root.setLevel(old_level)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
        for name, (propagate, disabled) in uvicorn_loggers.items():
            logging.getLogger(name).propagate = propagate
            logging.getLogger(name).disabled = disabled

    log_text = "\n".join(capture.lines)
    # The capture really saw the traffic (otherwise "no secret" proves nothing).
    assert '"POST /api/auth/token HTTP/1.1" 200' in log_text and "uvicorn.access" in log_text
    assert "sqlalchemy.engine" in log_text and "INSERT INTO auth_tokens" in log_text
    assert "wrong PIN" in log_text  # the refused guess is logged (member and kiosk), the PIN is not
    assert "login_failed" in audit_rows and "member_pin_set" in audit_rows and "user_update" in audit_rows
    for what, secret in secrets.items():
        assert secret not in log_text, f"{what} appears in the log"
        assert secret not in audit_rows, f"{what} appears in the audit log"
