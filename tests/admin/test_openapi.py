"""The OpenAPI contract: schemathesis finds no server error, and every write
operation refuses an anonymous caller."""

from __future__ import annotations

import re

from tests.admin.conftest import server_errors

WRITE_METHODS = {"post", "put", "patch", "delete"}
# Writes that authenticate by their own means: logging in, and the screenshot a
# device uploads with its own (HTTP Basic) credentials.
OWN_AUTH = {("post", "/api/auth/token"), ("post", "/api/devices/{device_id}/screenshot")}


def test_no_server_errors(hall):
    """Generated requests against every operation, signed in as an admin (who
    may call everything), never get a 5xx. Few examples per operation keep the
    run short; derandomized so a failure reproduces."""
    token = hall["admin"].headers["Authorization"]
    # logging out would revoke the token the rest of the run signs in with
    checked, failures = server_errors(hall.app, token, skip=lambda op: op.path == "/api/auth/logout")
    assert checked >= 40
    assert failures == []


def test_every_write_refuses_anonymous(hall):
    spec = hall.anon.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        for method in operations:
            if method not in WRITE_METHODS or (method, path) in OWN_AUTH:
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            response = hall.anon.request(method.upper(), url, json={})
            assert response.status_code in (401, 403), (method, path, response.status_code)
            checked += 1
    assert checked >= 25
    # The device upload refuses callers without device credentials too.
    assert hall.anon.post("/api/devices/x/screenshot", content=b"\x89PNG").status_code in (401, 404)
