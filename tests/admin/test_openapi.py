"""The OpenAPI contract: schemathesis finds no server error, and every write
operation refuses an anonymous caller."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

WRITE_METHODS = {"post", "put", "patch", "delete"}
# Writes that authenticate by their own means: logging in, and the screenshot a
# device uploads with its own (HTTP Basic) credentials.
OWN_AUTH = {("post", "/api/auth/token"), ("post", "/api/devices/{device_id}/screenshot")}


def test_no_server_errors(hall):
    """Generated requests against every operation, signed in as an admin (who
    may call everything), never get a 5xx. Few examples per operation keep the
    run short; derandomized so a failure reproduces."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", hall.app)
    token = hall["admin"].headers["Authorization"]
    failures: list[tuple] = []
    operations = calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        if operation.path == "/api/auth/logout":
            continue  # would revoke the token the rest of the run signs in with

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def check(case):
            response = case.call(headers={"Authorization": token})
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, response.status_code, response.text[:200]))

        check()
        calls += 1
    assert operations >= 40 and calls == operations - 1
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
