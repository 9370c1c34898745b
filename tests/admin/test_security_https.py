"""HTTPS for the admin: `hall admin serve --tls-cert/--tls-key` with a server
certificate from the site's local CA (`hall broker make-ca`), served by a real
uvicorn on loopback. A client that trusts the local CA connects; one that
does not is refused by its own TLS check. Session cookies are Secure."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PASSWORD = "correct-horse-battery"
HALL = str(Path(sys.executable).with_name("hall"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hall(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([HALL, *args], env=env, capture_output=True, text=True, timeout=60, check=True)


@pytest.fixture
def https_admin(tmp_path, template_dir):
    shutil.copytree(template_dir[0] / "data", tmp_path / "data")
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("", encoding="utf-8")
    env = {**os.environ, "HALL_ENV_FILE": str(empty_env), "HALL_SITE_ID": "test-site",
           "HALL_DATA_DIR": str(tmp_path / "data")}
    env.pop("HALL_ADMIN_TLS_CERT", None)
    env.pop("HALL_ADMIN_TLS_KEY", None)
    tls = tmp_path / "tls"
    hall("broker", "make-ca", str(tls), "--host", "127.0.0.1", "--host", "localhost", env=env)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([HALL, "admin", "serve", "--no-mqtt", "--port", str(port),
                             "--tls-cert", str(tls / "server.crt"), "--tls-key", str(tls / "server.key")],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/login", verify=str(tls / "ca.crt"), timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("admin did not start: " + (tmp_path / "serve.log").read_text())
                time.sleep(0.2)
        yield url, tls, port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def test_admin_serves_https_with_a_cert_from_the_local_ca(https_admin, tmp_path):
    url, tls, port = https_admin
    with httpx.Client(base_url=url, verify=str(tls / "ca.crt"), timeout=10) as trusted:
        signed_in(trusted)
    rejected_elsewhere(url, port, tmp_path)


def signed_in(trusted: httpx.Client) -> None:
    page = trusted.get("/login")
    assert page.status_code == 200 and "党建展厅" in page.text
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert "server" not in page.headers

    login = trusted.post("/login", data={"name": "bianji", "password": PASSWORD, "next": "/"},
                         follow_redirects=False)
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "hall_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert trusted.get("/api/auth/me").json()["name"] == "bianji"


def rejected_elsewhere(url: str, port: int, tmp_path: Path) -> None:
    # The system trust store does not know the local CA: the client refuses the server.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{url}/login", timeout=10)
    # Nor does a client that trusts some other CA (another site's).
    other = tmp_path / "other-ca"
    from broker.tls import make_ca

    make_ca(other, hosts=["127.0.0.1"])
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{url}/login", verify=str(other / "ca.crt"), timeout=10)
    # Plain HTTP on the HTTPS port gets no page.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=10)


def test_tls_needs_both_cert_and_key(tmp_path):
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("", encoding="utf-8")
    env = {**os.environ, "HALL_ENV_FILE": str(empty_env), "HALL_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([HALL, "admin", "serve", "--no-mqtt", "--tls-cert", str(tmp_path / "x.crt")],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "HALL_ADMIN_TLS_KEY" in result.stderr
