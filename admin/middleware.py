"""ASGI middleware for the admin's security rules that hold for every request:
response headers, a request body size limit enforced while the body streams
in, and failed-login limiting per client address.

Plain ASGI (no BaseHTTPMiddleware): each adds a header or counts bytes
without an extra task or a copy of the body per request.
"""

from __future__ import annotations

import json

from admin.ratelimit import SlidingWindow

# The UI serves its own JS and CSS; no inline script (page data travels in
# JSON data blocks), no framing, no plugins. Inline style attributes remain in
# the templates, so styles allow 'unsafe-inline' (a known, lesser risk).
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
           "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
           "frame-ancestors 'none'")
# Uploaded bytes are never a document: even a JPEG/HTML polyglot opened
# directly runs nothing (nosniff plus a sandbox without scripts).
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox; frame-ancestors 'none'"
# Content-addressed and static files keep their own caching (immutable media
# is what lets a caching proxy carry a fleet); everything else is per user.
CACHEABLE_PREFIXES = ("/media/", "/static/")

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Not "no-referrer": under it browsers send "Origin: null" even on
    # same-site form posts, which SameOriginMiddleware must then refuse.
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


def csp_for(path: str) -> str:
    if path.startswith("/media/"):
        return MEDIA_CSP
    return APP_CSP


class SecurityHeadersMiddleware:
    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = [*COMMON, (b"content-security-policy", csp_for(path).encode())]
        if scope.get("scheme") == "https":
            extra.append(HSTS)
        cacheable = path.startswith(CACHEABLE_PREFIXES)

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                if not cacheable and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _send_simple(send, status: int, body: bytes, content_type: bytes, extra=()) -> None:  # noqa: ANN001
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *extra]})
    await send({"type": "http.response.body", "body": body})


def _json(detail: str) -> bytes:
    return json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")


class BodyLimitMiddleware:
    """413 as soon as a request body is known to exceed ``limit`` bytes: at
    once from Content-Length, or while a chunked body streams in, so a huge
    upload is never buffered (the multipart parser would otherwise spool all
    of it to disk before the route sees it)."""

    def __init__(self, app, *, limit: int) -> None:  # noqa: ANN001
        self.app = app
        self.limit = limit

    def _message(self) -> bytes:
        return _json(f"请求体超过上限 {self.limit // (1024 * 1024)} MB")

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.limit:
                    await _send_simple(send, 413, self._message(), b"application/json")
                    return
        received = 0
        refused = False
        started = False

        async def counting_receive():  # noqa: ANN202
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit and not refused:
                    refused = True
                    if not started:
                        await _send_simple(send, 413, self._message(), b"application/json")
                    # The app sees a client that went away and stops reading.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message) -> None:  # noqa: ANN001
            nonlocal started
            if refused:
                return  # the 413 already went out; drop what the app answers to the "disconnect"
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class SameOriginMiddleware:
    """Refuse an unsafe request that a browser says comes from another site.

    Browsers send ``Origin`` with every cross-site POST; kiosks, robots and
    API scripts send none and are unaffected. Beside the session's CSRF token
    this also covers the login form (login CSRF: signing a victim in as the
    attacker), which has no session yet and so no token."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and scope.get("method") not in SAFE_METHODS:
            headers = dict(scope.get("headers", []))
            origin = headers.get(b"origin")
            if origin is not None and not _same_host(origin, headers.get(b"host", b"")):
                await _send_simple(send, 403, _json("跨站请求已拒绝"), b"application/json")
                return
        await self.app(scope, receive, send)


def _same_host(origin: bytes, host: bytes) -> bool:
    # "null" (sandboxed frames, file: pages) is never this site.
    _, _, netloc = origin.partition(b"://")
    return bool(netloc) and netloc.lower() == host.lower()


LOGIN_PATHS = {"/login", "/api/auth/token"}


class LoginAddressLimitMiddleware:
    """Failed logins per client address, across all accounts: the per-account
    back-off stops guessing one password, this stops trying one password on
    every account. Counts 401 answers of the login endpoints; refuses with
    429 while the address has used up its window.

    The address is the TCP peer: behind a reverse proxy every client shares
    the proxy's address (see docs/security.md)."""

    def __init__(self, app, *, window: SlidingWindow) -> None:  # noqa: ANN001
        self.app = app
        self.window = window

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        wait = self.window.wait_s(address)
        if wait:
            text = f"此地址登录失败次数过多，请 {wait} 秒后再试"
            retry = [(b"retry-after", str(wait).encode())]
            if scope["path"].startswith("/api/"):
                await _send_simple(send, 429, _json(text), b"application/json", retry)
            else:
                body = f"<!doctype html><meta charset=utf-8><title>登录受限</title><p>{text}</p>".encode()
                await _send_simple(send, 429, body, b"text/html; charset=utf-8", retry)
            return

        async def watching_send(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.window.hit(address)
            await send(message)

        await self.app(scope, receive, watching_send)
