"""The device-side cache: signed manifests and the media they name.

On disk, under ``root``::

    current.json           pointer: {"current": {sha256, version, signature}, "previous": {...}}
    manifests/<sha>.json   manifest bytes exactly as signed
    media/<ab>/<sha>       media files, named by the sha256 of their bytes
    tmp/                   downloads in progress (same file system, so rename is atomic)

``apply`` fetches and verifies everything *before* the pointer moves, and the
pointer moves with one ``os.replace``: at every moment the cache holds either
the old manifest with all its media or the new one with all its media. Any
failure raises a ``ContentError`` and leaves the pointer where it was.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import ssl
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from broker.messages import DesiredState

from .errors import ContentError, ManifestError, MediaError
from .model import Manifest, MediaRef
from .signing import MAX_MANIFEST_BYTES, decode_manifest, sha256_hex, verify_signature
from .store import SHA256_RE, check_sha256, disk_errors, fsync_dir, write_all

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
# What a failed fetch raises, whichever client does it (httpx, or a plain
# asyncio client whose errors are OSErrors): translated in one place below.
_NETWORK_ERRORS = (httpx.HTTPError, OSError, asyncio.TimeoutError)
POINTER = "current.json"
# A temporary file older than this belongs to no running download.
STALE_TMP_S = 3600.0


@dataclass(frozen=True)
class Applied:
    """One entry of the pointer file."""

    sha256: str
    version: int
    signature: str

    @classmethod
    def from_json(cls, raw: Any) -> "Applied | None":
        if not isinstance(raw, dict):
            return None
        sha, version, signature = raw.get("sha256"), raw.get("version"), raw.get("signature")
        if not (isinstance(sha, str) and SHA256_RE.match(sha) and isinstance(version, int)
                and isinstance(signature, str)):
            return None
        return cls(sha, version, signature)

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "version": self.version, "signature": self.signature}


def default_media_base(manifest_url: str) -> str:
    """``<base>/manifests/<name>`` -> ``<base>``: media live at ``<base>/media/<sha>``."""
    parts = urlsplit(manifest_url)
    segments = parts.path.rstrip("/").split("/")
    path = "/".join(segments[:-2])
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class MediaCache:
    def __init__(self, root: Path | str, *, http: httpx.AsyncClient | Any | None = None, timeout: float = 30.0,
                 parallel: int = 4, durable: bool = True, max_media_bytes: int = 2 * 1024**3) -> None:
        """``http`` is an ``httpx.AsyncClient`` or any client whose ``get(url)``
        is an async context manager giving a response with ``status`` and
        ``iter_bytes(size)`` (e.g. ``content.http_get.HttpGetClient``); None
        makes an httpx client, closed by ``aclose``.

        ``durable=False`` skips fsync: only for simulated fleets in benchmarks,
        where a thousand caches share one disk and power loss is not the point."""
        self.root = Path(root)
        self._manifests = self.root / "manifests"
        self._media = self.root / "media"
        self._tmp = self.root / "tmp"
        for folder in (self._manifests, self._media, self._tmp):
            folder.mkdir(parents=True, exist_ok=True)
        self._http = http
        self._own_http = http is None
        self._timeout = timeout
        self._parallel = max(1, parallel)
        self._durable = durable
        self._max_media_bytes = max_media_bytes
        self._lock = asyncio.Lock()
        # Media being fetched for a manifest that is not active yet: gc must keep them.
        self._pending: set[str] = set()
        # Parsed manifests and their media lists by sha256 (current, previous, incoming).
        self._decoded: dict[str, tuple[Manifest, dict[str, MediaRef]]] = {}
        self._current, self._previous = self._read_pointer()

    # -- state ----------------------------------------------------------------
    @property
    def current_version(self) -> int | None:
        return self._current.version if self._current else None

    @property
    def current_sha256(self) -> str | None:
        return self._current.sha256 if self._current else None

    @property
    def previous_sha256(self) -> str | None:
        return self._previous.sha256 if self._previous else None

    def _read_pointer(self) -> tuple[Applied | None, Applied | None]:
        path = self.root / POINTER
        try:
            raw = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:
            log.error("cache: unreadable pointer %s (%s); starting empty", path, exc)
            return None, None
        if not isinstance(raw, dict):
            log.error("cache: pointer %s is not an object; starting empty", path)
            return None, None
        return Applied.from_json(raw.get("current")), Applied.from_json(raw.get("previous"))

    def media_path(self, sha256: str) -> Path | None:
        try:
            path = self._media_file(sha256)
        except MediaError:
            return None
        return path if path.is_file() else None

    def _media_file(self, sha: str) -> Path:
        check_sha256(sha)
        return self._media / sha[:2] / sha

    def _manifest_file(self, sha: str) -> Path:
        check_sha256(sha)
        return self._manifests / f"{sha}.json"

    # -- files ----------------------------------------------------------------
    def _new_tmp(self, prefix: str) -> tuple[int, Path]:
        with disk_errors("cache"):
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix=prefix)
        return fd, Path(name)

    def _install(self, tmp: Path, final: Path) -> None:
        """Rename a finished temporary file into place (the atomic step)."""
        with disk_errors("cache"):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            if self._durable:
                fsync_dir(final.parent)

    def _write_atomic(self, final: Path, data: bytes) -> None:
        fd, tmp = self._new_tmp("w-")
        try:
            with disk_errors("cache"):
                try:
                    write_all(fd, data)
                    if self._durable:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            self._install(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    # -- activation -----------------------------------------------------------
    def activate(self, manifest_bytes: bytes, signature: str) -> list[Applied]:
        """Make these (already verified) manifest bytes the current manifest.

        The manifest file is written first, then the pointer is replaced in
        one rename; the manifest in force before becomes ``previous``.
        Returns the entries that are kept no more (their files may go).
        """
        manifest = self._decode(manifest_bytes)
        sha = sha256_hex(manifest_bytes)
        manifest_file = self._manifest_file(sha)
        if not (manifest_file.is_file() and manifest_file.stat().st_size == len(manifest_bytes)):
            self._write_atomic(manifest_file, manifest_bytes)
        new = Applied(sha, manifest.version, signature)
        if self._current == new:
            return []
        previous = self._current if self._current and self._current.sha256 != sha else self._previous
        pointer = {"current": new.to_json(), "previous": previous.to_json() if previous else None,
                   "activated_at": time.time()}
        self._write_atomic(self.root / POINTER, json.dumps(pointer, sort_keys=True).encode())
        kept = {new.sha256, previous.sha256 if previous else None}
        dropped = [e for e in (self._current, self._previous) if e is not None and e.sha256 not in kept]
        self._current, self._previous = new, previous
        log.info("cache: manifest v%s (%s) active", new.version, sha[:12])
        return dropped

    def _decode(self, data: bytes) -> Manifest:
        return self._parsed(data)[0]

    def _parsed(self, data: bytes) -> tuple[Manifest, dict[str, MediaRef]]:
        sha = sha256_hex(data)
        parsed = self._decoded.get(sha)
        if parsed is None:
            manifest = decode_manifest(data)
            parsed = (manifest, manifest.media_refs())
            if len(self._decoded) >= 3:
                self._decoded.pop(next(iter(self._decoded)))
            self._decoded[sha] = parsed
        return parsed

    def _refs_of(self, sha: str) -> dict[str, MediaRef]:
        parsed = self._decoded.get(sha)
        return parsed[1] if parsed else self._parsed(self._manifest_file(sha).read_bytes())[1]

    # -- start-up -------------------------------------------------------------
    def load_current(self, public_key: Ed25519PublicKey | str) -> Manifest | None:
        """The last good manifest, re-verified (signature, and every media file
        re-hashed). Falls back to the previous manifest when the current one is
        damaged; None when neither is usable (the reason is logged)."""
        for label, entry in (("current", self._current), ("previous", self._previous)):
            if entry is None:
                continue
            try:
                manifest = self._load_verified(entry, public_key)
            except ContentError as exc:
                log.error("cache: %s manifest v%s (%s) unusable: %s", label, entry.version, entry.sha256[:12], exc)
                continue
            if label == "previous":
                log.warning("cache: falling back to the previous manifest v%s", entry.version)
                # In memory only: the damaged current is repaired by the next apply.
                self._current, self._previous = entry, self._current
            return manifest
        # Nothing usable: report nothing applied, so that the same desired
        # state is applied again (and the damaged files fetched) instead of
        # being taken for the one already in force.
        self._current = None
        return None

    def _load_verified(self, entry: Applied, public_key: Ed25519PublicKey | str) -> Manifest:
        path = self._manifest_file(entry.sha256)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ManifestError(f"manifest file missing: {exc}") from exc
        if sha256_hex(data) != entry.sha256:
            raise ManifestError("manifest file does not match its hash")
        verify_signature(data, entry.signature, public_key)
        manifest, refs = self._parsed(data)
        bad = [sha for sha in refs if not self.verify_media(sha)]
        if bad:
            raise MediaError(f"{len(bad)} media file(s) missing or damaged, e.g. {bad[0][:12]}")
        return manifest

    def verify_media(self, sha256: str) -> bool:
        """Re-hash a cached file; a damaged one is deleted so it is fetched again."""
        path = self.media_path(sha256)
        if path is None:
            return False
        try:
            actual = _hash_file(path)
        except OSError as exc:
            log.error("cache: cannot read media %s: %s", sha256[:12], exc)
            return False
        if actual != sha256:
            log.error("cache: media %s is damaged on disk (hash %s); deleting it", sha256[:12], actual[:12])
            path.unlink(missing_ok=True)
            return False
        return True

    # -- apply ----------------------------------------------------------------
    async def apply(self, desired: DesiredState, public_key: Ed25519PublicKey | str, *,
                    media_base_url: str | None = None) -> Manifest:
        """Fetch, verify and switch to the manifest ``desired`` points at.

        Raises ``ManifestError``, ``MediaError`` or ``CacheFullError``; on any
        failure the manifest in force before stays in force, untouched.
        """
        async with self._lock:
            data = await self._manifest_bytes(desired)
            verify_signature(data, desired.signature, public_key)
            manifest, refs = self._parsed(data)
            if manifest.version != desired.version or manifest.group != desired.group:
                raise ManifestError(
                    f"manifest is v{manifest.version} for group {manifest.group!r}, "
                    f"desired state says v{desired.version} for {desired.group!r}")
            if self._current and manifest.version < self._current.version:
                log.warning("cache: going back from v%s to v%s", self._current.version, manifest.version)
            missing = [ref for ref in refs.values() if not self._present(ref)]
            if missing:
                base = media_base_url or default_media_base(desired.manifest_url)
                await self._download_all(missing, base.rstrip("/"))
            if self.current_sha256 != desired.manifest_sha256 or self._current.signature != desired.signature:
                dropped = self.activate(data, desired.signature)
                # Only what the switch let go can have become garbage: walking the
                # whole cache on every apply cost a fifth of an apply (and grows
                # with the cache). ``gc()`` still sweeps everything, e.g. at start.
                self._gc_dropped(dropped)
            return manifest

    async def _manifest_bytes(self, desired: DesiredState) -> bytes:
        local = self._manifest_file(desired.manifest_sha256)
        try:
            data = local.read_bytes()
            if sha256_hex(data) == desired.manifest_sha256:
                return data  # known already: no download
        except OSError:
            pass
        data = await self._fetch_manifest(desired.manifest_url)
        actual = sha256_hex(data)
        if actual != desired.manifest_sha256:
            raise ManifestError(f"manifest hash mismatch: got {actual[:12]}, expected {desired.manifest_sha256[:12]}")
        return data

    def _client(self) -> Any:
        if self._http is None:
            # One TLS context per process: building one loads the CA bundle (~20 ms).
            self._http = httpx.AsyncClient(timeout=self._timeout, trust_env=False, verify=_shared_tls_context())
        return self._http

    async def aclose(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    @asynccontextmanager
    async def _get(self, url: str) -> AsyncIterator[tuple[int, AsyncIterator[bytes]]]:
        """One GET through whichever client the cache has: (status, body chunks)."""
        client = self._client()
        if isinstance(client, httpx.AsyncClient):
            async with client.stream("GET", url, timeout=self._timeout) as response:
                yield response.status_code, response.aiter_bytes(CHUNK)
        else:
            async with client.get(url) as response:
                yield response.status, response.iter_bytes(CHUNK)

    async def _fetch_manifest(self, url: str) -> bytes:
        chunks, total = [], 0
        try:
            async with self._get(url) as (status, body):
                if status != 200:
                    raise ManifestError(f"manifest download failed: HTTP {status} from {url}")
                async for chunk in body:
                    total += len(chunk)
                    if total > MAX_MANIFEST_BYTES:
                        raise ManifestError(f"manifest larger than {MAX_MANIFEST_BYTES} bytes at {url}")
                    chunks.append(chunk)
        except _NETWORK_ERRORS as exc:
            raise ManifestError(f"manifest download failed from {url}: {exc!r}") from exc
        return b"".join(chunks)

    def _present(self, ref: MediaRef) -> bool:
        # Size only: every byte was hashed when it arrived; load_current and
        # verify_media re-hash when that matters.
        try:
            return self._media_file(ref.sha256).stat().st_size == ref.size
        except OSError:
            return False

    async def _download_all(self, refs: list[MediaRef], base: str) -> None:
        semaphore = asyncio.Semaphore(self._parallel)
        self._pending.update(ref.sha256 for ref in refs)

        async def one(ref: MediaRef) -> None:
            async with semaphore:
                await self._download(ref, f"{base}/media/{ref.sha256}")

        tasks = [asyncio.create_task(one(ref)) for ref in refs]
        try:
            # The first failure ends the apply; the rest are cancelled below.
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._pending.difference_update(ref.sha256 for ref in refs)

    async def _download(self, ref: MediaRef, url: str) -> None:
        if ref.size > self._max_media_bytes:
            raise MediaError(f"media {ref.sha256[:12]} refused: {ref.size} bytes is over the limit")
        fd, tmp = self._new_tmp(f"dl-{ref.sha256[:12]}-")
        digest, total = hashlib.sha256(), 0
        try:
            try:
                async with self._get(url) as (status, body):
                    if status != 200:
                        raise MediaError(f"media {ref.sha256[:12]}: HTTP {status} from {url}")
                    async for chunk in body:
                        total += len(chunk)
                        if total > ref.size:
                            raise MediaError(f"media {ref.sha256[:12]}: more than the announced {ref.size} bytes")
                        digest.update(chunk)
                        with disk_errors("media"):
                            write_all(fd, chunk)
                with disk_errors("media"):
                    if self._durable:
                        os.fsync(fd)
            finally:
                os.close(fd)
            if total != ref.size or digest.hexdigest() != ref.sha256:
                raise MediaError(f"media {ref.sha256[:12]} refused: got {total} bytes hashing to "
                                 f"{digest.hexdigest()[:12]}")
            self._install(tmp, self._media_file(ref.sha256))
        except _NETWORK_ERRORS as exc:
            # (Disk errors never arrive here as OSError: disk_errors translated them.)
            tmp.unlink(missing_ok=True)
            raise MediaError(f"media {ref.sha256[:12]} download failed from {url}: {exc!r}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    # -- garbage collection ---------------------------------------------------
    def gc(self) -> int:
        """Delete media no kept manifest needs, manifests other than current and
        previous, and stale temporary files. Returns the bytes freed."""
        # While an apply runs, its downloads are in tmp/: only old leftovers go.
        return self._gc(tmp_older_than=STALE_TMP_S if self._lock.locked() else 0.0)

    def _gc(self, *, tmp_older_than: float) -> int:
        keep_manifests = {entry.sha256 for entry in (self._current, self._previous) if entry}
        keep_media = set(self._pending)
        for sha in keep_manifests:
            try:
                keep_media.update(self._refs_of(sha))
            except (OSError, ContentError) as exc:
                log.warning("cache: gc cannot read kept manifest %s: %s", sha[:12], exc)
        freed = 0
        for path in list(self._media.glob("*/*")):
            if path.name not in keep_media:
                freed += self._remove(path)
        for path in list(self._manifests.iterdir()):
            if path.stem not in keep_manifests:
                freed += self._remove(path)
        cutoff = time.time() - tmp_older_than
        for path in list(self._tmp.iterdir()):
            try:
                if path.stat().st_mtime <= cutoff:
                    freed += self._remove(path)
            except FileNotFoundError:
                pass
        if freed:
            log.info("cache: gc freed %d bytes", freed)
        return freed

    def _gc_dropped(self, dropped: list[Applied]) -> int:
        keep_manifests = {entry.sha256 for entry in (self._current, self._previous) if entry}
        keep_media = set(self._pending)
        try:
            for sha in keep_manifests:
                keep_media.update(self._refs_of(sha))
            candidates = set()
            for entry in dropped:
                candidates.update(self._refs_of(entry.sha256))
        except (OSError, ContentError) as exc:
            log.warning("cache: cannot read a manifest for gc (%s); sweeping everything", exc)
            return self._gc(tmp_older_than=0.0)
        freed = 0
        for sha in candidates - keep_media:
            freed += self._remove(self._media_file(sha))
        for entry in dropped:
            if entry.sha256 not in keep_manifests:
                freed += self._remove(self._manifest_file(entry.sha256))
        # Downloads of this apply are finished: every temporary file is a leftover.
        for path in list(self._tmp.iterdir()):
            freed += self._remove(path)
        if freed:
            log.info("cache: gc freed %d bytes", freed)
        return freed

    @staticmethod
    def _remove(path: Path) -> int:
        try:
            size = path.stat().st_size
            path.unlink()
            return size
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("cache: cannot delete %s: %s", path, exc)
            return 0


@functools.lru_cache(maxsize=1)
def _shared_tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()
