"""nginx in front of the admin: cache ``/media/``, pass everything else through.

``hall admin nginx-config FILE --upstream URL`` writes it for operators;
``hall bench fleet --media-proxy`` runs the very same text (with temporary
paths) in front of the benchmark's media route, so what is measured is what
ships.

Why these directives:

- media URLs are content hashes and published media says
  ``Cache-Control: public, max-age=31536000, immutable``: the cache's lifetime
  comes from the upstream's headers only (no ``proxy_cache_valid``), so a
  ``private`` answer (unpublished media for a signed-in editor), a 401 or a 404
  is never stored;
- requests that carry credentials (cookie, ``Authorization``) go to the admin
  and their answers are not stored either, whatever the headers say: a second
  lock on the door to drafts;
- ``proxy_cache_lock``: 1,000 screens asking for the same new file at the same
  moment make one upstream fetch, the others wait for it;
- keep-alive to the upstream (HTTP/1.1, ``Connection ""``), with an idle
  timeout below uvicorn's 5 s so nginx never reuses a connection the admin is
  closing;
- only ``/media/`` is cached; the editor, the API and uploads pass through,
  with the browser's ``Host`` (the admin compares it with ``Origin``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# A sha256 per key, ~8,000 keys per MB of zone: 32 MB is ~250,000 files.
KEYS_ZONE_MB = 32
# uvicorn closes an idle keep-alive connection after 5 s; nginx must give up first.
UPSTREAM_IDLE_S = 4
_SIZE_RE = re.compile(r"^[0-9]+[kmgKMG]?$")


class ProxyConfigError(ValueError):
    """A setting that would produce a broken or unsafe configuration."""


@dataclass(frozen=True)
class ProxySettings:
    upstream: str  # the admin (or bare media route), e.g. http://127.0.0.1:8000
    listen: str = "0.0.0.0:8080"
    cache_dir: Path = Path("/var/cache/nginx/hall-media")
    cache_size: str = "20g"
    # Downloads of a large video can take longer than nginx's 5 s default: the
    # screens waiting on the lock should still wait for the one fetch.
    lock_timeout_s: int = 120
    # Off only to measure the herd without it: waiters poll the lock every 500 ms.
    cache_lock: bool = True
    worker_processes: str = "auto"
    user: str | None = None  # the workers' user when nginx starts as root (Debian: www-data)
    worker_connections: int = 16384
    worker_rlimit_nofile: int = 65536
    upstream_keepalive: int = 64
    # The admin accepts uploads of max_upload_bytes (50 MiB) plus form overhead.
    client_max_body_size: str = "52m"
    upstream_ca: Path | None = None  # an https upstream is verified against this CA
    access_log: Path | None = None  # one line per request with the cache status
    # Standalone file only: where a non-root nginx keeps its pid, log and temp files.
    runtime_dir: Path | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProxyConfigError(f"上游地址必须是 http(s)://主机:端口，而不是 {self.upstream!r}")
        if parts.path not in ("", "/") or parts.query:
            raise ProxyConfigError(f"上游地址不能带路径：{self.upstream!r}")
        if not _SIZE_RE.match(self.cache_size):
            raise ProxyConfigError(f"缓存大小应形如 20g、500m，而不是 {self.cache_size!r}")
        host, sep, port = self.listen.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ProxyConfigError(f"监听地址应形如 0.0.0.0:8080，而不是 {self.listen!r}")
        for value in (str(self.cache_dir), self.listen, self.upstream, self.user or ""):
            if any(ch in value for ch in ';{}"\'\n\\ '):
                raise ProxyConfigError(f"不允许的字符：{value!r}")

    @property
    def upstream_scheme(self) -> str:
        return urlsplit(self.upstream).scheme

    @property
    def upstream_hostport(self) -> str:
        parts = urlsplit(self.upstream)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        return f"{host}:{port}"


def _proxy_common(s: ProxySettings) -> list[str]:
    lines = [
        f"proxy_pass {s.upstream_scheme}://hall_admin;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $http_host;",
        # Replaced, not appended to: this proxy is the edge, and a chain a client
        # wrote itself must not reach the admin's per-address login limit.
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
    ]
    if s.upstream_scheme == "https":
        lines += ["proxy_ssl_server_name on;", f"proxy_ssl_name {urlsplit(s.upstream).hostname};",
                  "proxy_ssl_session_reuse on;"]
        if s.upstream_ca is not None:
            lines += ["proxy_ssl_verify on;", f"proxy_ssl_trusted_certificate {s.upstream_ca};"]
    return lines


def http_block(s: ProxySettings) -> str:
    """The http-context part: what goes into ``/etc/nginx/conf.d/hall-media.conf``."""
    def block(head: str, body: list[str], indent: str = "    ") -> list[str]:
        return [f"{indent}{head} {{", *(f"{indent}    {line}" for line in body), f"{indent}}}"]

    media = [
        *_proxy_common(s),
        "proxy_cache hall_media;",
        "proxy_cache_key $proxy_host$request_uri;",
        "proxy_cache_methods GET HEAD;",
        # No proxy_cache_valid: the upstream's Cache-Control/Expires alone decide,
        # so "private", 401 and 404 answers are never stored.
        *([ "proxy_cache_lock on;", f"proxy_cache_lock_timeout {s.lock_timeout_s}s;",
            f"proxy_cache_lock_age {s.lock_timeout_s}s;"] if s.cache_lock else ["proxy_cache_lock off;"]),
        # Credentials mean an editor: straight to the admin, and never stored.
        "proxy_cache_bypass $http_authorization $http_cookie;",
        "proxy_no_cache $http_authorization $http_cookie;",
        "add_header X-Cache-Status $upstream_cache_status always;",
    ]
    other = [*_proxy_common(s), "proxy_cache off;", f"client_max_body_size {s.client_max_body_size};",
             "proxy_request_buffering off;"]
    lines = [
        "# Generated by `hall admin nginx-config`: a caching proxy for the hall's media.",
        f"proxy_cache_path {s.cache_dir} levels=1:2 keys_zone=hall_media:{KEYS_ZONE_MB}m "
        f"max_size={s.cache_size} inactive=365d use_temp_path=off;",
        "",
        *block("upstream hall_admin", [f"server {s.upstream_hostport};", f"keepalive {s.upstream_keepalive};",
                                       f"keepalive_timeout {UPSTREAM_IDLE_S}s;", "keepalive_requests 100000;"], ""),
        "",
    ]
    if s.access_log is not None:
        lines += ["log_format hall_cache '$msec $upstream_cache_status $upstream_addr $status "
                  "$request_time $request_method $uri';", ""]
    server = [f"listen {s.listen} reuseport backlog=4096;", "server_name _;", "server_tokens off;",
              "keepalive_requests 100000;"]
    server.append(f"access_log {s.access_log} hall_cache;" if s.access_log is not None else "access_log off;")
    lines += ["server {", *(f"    {line}" for line in server), "",
              *block("location /media/", media), "", *block("location /", other), "}", ""]
    return "\n".join(lines)


def standalone(s: ProxySettings) -> str:
    """A complete nginx.conf (``nginx -t -c FILE``, ``nginx -c FILE``)."""
    head = [f"worker_processes {s.worker_processes};", f"worker_rlimit_nofile {s.worker_rlimit_nofile};"]
    if s.user is not None:
        head.insert(0, f"user {s.user};")
    http = ["default_type application/octet-stream;", "sendfile on;", "tcp_nopush on;", "tcp_nodelay on;"]
    if s.runtime_dir is not None:
        r = s.runtime_dir
        head += ["daemon off;", f"pid {r}/nginx.pid;", f"error_log {r}/error.log warn;"]
        # An unprivileged nginx cannot write the compiled-in /var/lib/nginx.
        http += [f"client_body_temp_path {r}/body;", f"proxy_temp_path {r}/proxy;",
                 f"fastcgi_temp_path {r}/fastcgi;", f"uwsgi_temp_path {r}/uwsgi;", f"scgi_temp_path {r}/scgi;"]
    inner = http_block(s).splitlines()
    return "\n".join([
        *head, "",
        "events {", f"    worker_connections {s.worker_connections};", "}", "",
        "http {", *(f"    {line}" if line else "" for line in http + [""] + inner), "}", "",
    ])


def write_config(path: Path, s: ProxySettings, *, snippet: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(http_block(s) if snippet else standalone(s), encoding="utf-8")
    return path


def with_changes(s: ProxySettings, **changes) -> ProxySettings:  # noqa: ANN003
    return dataclasses.replace(s, **changes)
