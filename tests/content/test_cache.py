"""The device cache against a real HTTP server on loopback: fetch by hash,
verify every byte, switch atomically, survive restarts, collect garbage,
and keep the old content on every kind of failure."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from content import cache as cache_module
from content.cache import MediaCache, default_media_base
from content.errors import CacheFullError, ManifestError, MediaError
from content.model import Exhibit, Manifest, MediaRef, News, Playlist, PlaylistEntry, Schedule
from content.signing import ManifestSigner
from content.store import MediaStore


def blob(seed: int, size: int) -> bytes:
    """Deterministic bytes that do not compress (like a picture)."""
    return random.Random(seed).randbytes(size)


def ref(store: MediaStore, data: bytes, mime: str = "image/png") -> MediaRef:
    return MediaRef(sha256=store.put_bytes(data), mime=mime, size=len(data))


def manifest(version: int, media: list[MediaRef], group: str = "lobby") -> Manifest:
    items = [Exhibit(id=f"ex-{n}", title=f"展品{n}", image=m) for n, m in enumerate(media)]
    items.append(News(id="news-1", title=f"第{version}版", summary="测试"))
    return Manifest(site_id="site-1", group=group, version=version, created_at=1700000000.0 + version, items=items,
                    playlists=[Playlist(id="loop", name="轮播", entries=[PlaylistEntry(item_id="news-1")])],
                    schedule=Schedule(default_playlist_id="loop"))


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def run(coro):
    return asyncio.run(coro)


async def apply_and_close(cache: MediaCache, *desired, key) -> list[Manifest]:
    try:
        return [await cache.apply(d, key) for d in desired]
    finally:
        await cache.aclose()


# -- the happy path -----------------------------------------------------------------

def test_apply_fetches_verifies_and_activates(tmp_path, content_server, signer) -> None:
    store = content_server.store
    media = [ref(store, blob(n, 50_000 + n)) for n in range(6)]
    desired = content_server.publish(manifest(1, media), signer)
    cache = MediaCache(tmp_path / "cache")

    async def scenario():
        first = await cache.apply(desired, signer.public_key_b64)
        fetched = content_server.media_requests()
        again = await cache.apply(desired, signer.public_key_b64)
        await cache.aclose()
        return first, fetched, again

    first, fetched, again = run(scenario())
    assert first.version == 1 and cache.current_version == 1
    assert cache.current_sha256 == desired.manifest_sha256
    assert fetched == 6
    for m in media:
        path = cache.media_path(m.sha256)
        assert path is not None and path.read_bytes() == store.read(m.sha256)
    # Idempotent: the second apply downloads nothing at all (not even the manifest).
    assert content_server.media_requests() == 6
    assert sum(content_server.requests.values()) == 7
    assert again == first
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_restart_loads_last_good_manifest(tmp_path, content_server, signer) -> None:
    store = content_server.store
    v1 = content_server.publish(manifest(1, [ref(store, blob(1, 1000))]), signer)
    v2 = content_server.publish(manifest(2, [ref(store, blob(2, 2000))]), signer)
    run(apply_and_close(MediaCache(tmp_path / "c"), v1, v2, key=signer.public_key))

    reborn = MediaCache(tmp_path / "c")
    loaded = reborn.load_current(signer.public_key_b64)
    assert loaded is not None and loaded.version == 2 and reborn.current_version == 2
    assert reborn.previous_sha256 == v1.manifest_sha256
    # A cache that trusts another key refuses what is on disk.
    assert MediaCache(tmp_path / "c").load_current(ManifestSigner.generate().public_key) is None
    assert MediaCache(tmp_path / "empty").load_current(signer.public_key) is None


def test_gc_removes_what_no_kept_manifest_needs(tmp_path, content_server, signer) -> None:
    store = content_server.store
    shared = ref(store, blob(0, 4000))
    only_v1 = ref(store, blob(1, 3000))
    only_v2 = ref(store, blob(2, 3000))
    only_v3 = ref(store, blob(3, 3000))
    published = [content_server.publish(manifest(1, [shared, only_v1]), signer),
                 content_server.publish(manifest(2, [shared, only_v2]), signer),
                 content_server.publish(manifest(3, [shared, only_v3]), signer)]
    cache = MediaCache(tmp_path / "c")
    run(apply_and_close(cache, *published, key=signer.public_key))
    # v3 is current and v2 previous: v1's own media and manifest went when v3 was applied.
    assert cache.media_path(only_v1.sha256) is None
    assert not (tmp_path / "c" / "manifests" / f"{published[0].manifest_sha256}.json").exists()
    for kept in (shared, only_v2, only_v3):
        assert cache.media_path(kept.sha256) is not None

    stray = tmp_path / "c" / "media" / "ab" / ("ab" + "0" * 62)
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"x" * 777)
    leftover = tmp_path / "c" / "tmp" / "dl-crashed"
    leftover.write_bytes(b"y" * 100)
    assert cache.gc() == 877
    assert not stray.exists() and not leftover.exists()
    assert cache.gc() == 0
    assert MediaCache(tmp_path / "c").load_current(signer.public_key).version == 3


def test_media_base_url_defaults_and_can_be_given(tmp_path, content_server, signer) -> None:
    assert default_media_base("http://h:8000/api/manifests/abc.json?x=1") == "http://h:8000/api"
    assert default_media_base("http://h/manifests/abc.json") == "http://h"
    store = content_server.store
    media = ref(store, blob(5, 500))
    desired = content_server.publish(manifest(1, [media]), signer)
    cache = MediaCache(tmp_path / "c")

    async def scenario():
        try:
            with pytest.raises(MediaError, match="404"):
                await cache.apply(desired, signer.public_key, media_base_url=content_server.base_url + "/nowhere")
            return await cache.apply(desired, signer.public_key, media_base_url=content_server.base_url + "/")
        finally:
            await cache.aclose()

    assert run(scenario()).version == 1


# -- failures keep the old content --------------------------------------------------

def _applied_v1(tmp_path, content_server, signer):
    store = content_server.store
    v1_media = ref(store, blob(1, 20_000))
    v1 = content_server.publish(manifest(1, [v1_media]), signer)
    cache = MediaCache(tmp_path / "c")
    run(apply_and_close(cache, v1, key=signer.public_key))
    return cache, v1


def _assert_still_v1(tmp_path, cache: MediaCache, v1, signer) -> None:
    assert cache.current_version == 1 and cache.current_sha256 == v1.manifest_sha256
    pointer = json.loads((tmp_path / "c" / "current.json").read_text())
    assert pointer["current"]["sha256"] == v1.manifest_sha256
    assert list((tmp_path / "c" / "tmp").iterdir()) == []
    reborn = MediaCache(tmp_path / "c").load_current(signer.public_key)
    assert reborn is not None and reborn.version == 1


def test_download_killed_halfway_keeps_old_manifest(tmp_path, content_server, signer) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    store = content_server.store
    big = ref(store, blob(7, 3_000_000))
    small = [ref(store, blob(10 + n, 1000)) for n in range(3)]
    v2 = content_server.publish(manifest(2, [*small, big]), signer)
    content_server.faults[big.sha256] = "truncate"

    with pytest.raises(MediaError, match="download failed"):
        run(apply_and_close(cache, v2, key=signer.public_key))
    _assert_still_v1(tmp_path, cache, v1, signer)
    assert cache.media_path(big.sha256) is None

    # The server comes back: the next apply completes, fetching only what is missing.
    del content_server.faults[big.sha256]
    before = content_server.media_requests()
    applied = run(apply_and_close(cache, v2, key=signer.public_key))
    assert applied[0].version == 2 and cache.current_version == 2
    assert content_server.media_requests() - before <= 4


def test_byte_flipped_download_is_refused(tmp_path, content_server, signer) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    bad = ref(content_server.store, blob(8, 10_000))
    v2 = content_server.publish(manifest(2, [bad]), signer)
    content_server.faults[bad.sha256] = "flip"
    with pytest.raises(MediaError, match="refused"):
        run(apply_and_close(cache, v2, key=signer.public_key))
    _assert_still_v1(tmp_path, cache, v1, signer)
    assert cache.media_path(bad.sha256) is None


def test_byte_flipped_file_on_disk_is_detected_and_fetched_again(tmp_path, content_server, signer) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    sha = next(iter(manifest_of(cache, v1).media_refs()))
    path = cache.media_path(sha)
    data = bytearray(path.read_bytes())
    data[1234] ^= 0x80
    path.write_bytes(bytes(data))

    reborn = MediaCache(tmp_path / "c")
    assert reborn.load_current(signer.public_key) is None  # damaged: refused
    assert reborn.current_sha256 is None  # so the same desired state is not taken as applied
    assert reborn.media_path(sha) is None  # ...and deleted so that it is fetched again
    before = content_server.media_requests()
    run(apply_and_close(reborn, v1, key=signer.public_key))
    assert content_server.media_requests() - before == 1
    assert reborn.verify_media(sha) and reborn.current_sha256 == v1.manifest_sha256
    assert MediaCache(tmp_path / "c").load_current(signer.public_key).version == 1


def manifest_of(cache: MediaCache, desired) -> Manifest:
    from content.signing import decode_manifest
    return decode_manifest((cache.root / "manifests" / f"{desired.manifest_sha256}.json").read_bytes())


def test_wrong_signature_and_wrong_hash_are_refused(tmp_path, content_server, signer) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    v2 = content_server.publish(manifest(2, [ref(content_server.store, blob(9, 100))]), signer)
    intruder = ManifestSigner.generate()
    forged = v2.model_copy(update={"signature": intruder.sign(b"something else")})
    foreign = content_server.publish(manifest(2, []), intruder)
    other = content_server.publish(manifest(3, []), signer)
    # Served bytes that do not hash to what the desired state names.
    wrong_hash = v2.model_copy(update={"manifest_sha256": other.manifest_sha256})
    wrong_version = v2.model_copy(update={"version": 5})
    requests_before = content_server.media_requests()

    async def scenario():
        try:
            for desired, reason in ((forged, "signature"), (foreign, "signature"), (wrong_hash, "hash mismatch"),
                                    (wrong_version, "desired state says v5")):
                with pytest.raises(ManifestError, match=reason):
                    await cache.apply(desired, signer.public_key)
        finally:
            await cache.aclose()

    run(scenario())
    assert content_server.media_requests() == requests_before  # nothing fetched before verification
    _assert_still_v1(tmp_path, cache, v1, signer)


def test_unreachable_server_raises_content_error(tmp_path, signer, content_server) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    gone = v1.model_copy(update={"manifest_sha256": "f" * 64, "version": 2,
                                 "manifest_url": "http://127.0.0.1:9/manifests/x.json"})
    with pytest.raises(ManifestError, match="download failed"):
        run(apply_and_close(cache, gone, key=signer.public_key))
    _assert_still_v1(tmp_path, cache, v1, signer)


def test_disk_full_while_downloading_keeps_old_content(tmp_path, content_server, signer, monkeypatch) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    v2 = content_server.publish(manifest(2, [ref(content_server.store, blob(11, 500_000))]), signer)
    real_write_all = cache_module.write_all
    written = {"bytes": 0}

    def write_all_until_full(fd, data):
        # The OS boundary: os.write fails with ENOSPC once 200 kB are written.
        if written["bytes"] + len(data) > 200_000:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written["bytes"] += len(data)
        real_write_all(fd, data)

    monkeypatch.setattr(cache_module, "write_all", write_all_until_full)
    with pytest.raises(CacheFullError) as caught:
        run(apply_and_close(cache, v2, key=signer.public_key))
    assert isinstance(caught.value.__cause__, OSError) and caught.value.__cause__.errno == errno.ENOSPC
    monkeypatch.undo()
    _assert_still_v1(tmp_path, cache, v1, signer)


def _can_mount_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(where)],
                          capture_output=True)
    return done.returncode == 0


def test_really_full_tmpfs_keeps_old_content(tmp_path, content_server, signer) -> None:
    small_disk = tmp_path / "small-disk"
    if not _can_mount_tmpfs(small_disk):
        pytest.skip("cannot mount a tmpfs here (needs root); the patched-ENOSPC test covers the logic")
    try:
        store = content_server.store
        v1 = content_server.publish(manifest(1, [ref(store, blob(1, 100_000))]), signer)
        v2 = content_server.publish(manifest(2, [ref(store, blob(2, 800_000))]), signer)
        cache = MediaCache(small_disk / "c")
        run(apply_and_close(cache, v1, key=signer.public_key))
        with pytest.raises(CacheFullError):
            run(apply_and_close(cache, v2, key=signer.public_key))
        assert cache.current_version == 1
        assert list((small_disk / "c" / "tmp").iterdir()) == []
        assert MediaCache(small_disk / "c").load_current(signer.public_key).version == 1
    finally:
        subprocess.run(["umount", "-l", str(small_disk)], check=False)


# -- the store ---------------------------------------------------------------------

def test_store_is_content_addressed_and_refuses_path_tricks(tmp_path) -> None:
    store = MediaStore(tmp_path / "s")
    data = blob(3, 3_000_000)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    sha = store.put_file(source)
    assert store.put_bytes(data) == sha and store.has(sha) and store.size(sha) == len(data)
    assert store.read(sha) == data and list(store.hashes()) == [sha]
    with pytest.raises(MediaError):
        store.put_file(source, max_bytes=1000)
    for bad in ("../../etc/passwd", "A" * 64, "ab", sha + "0"):
        with pytest.raises(MediaError):
            store.path(bad)
    assert store.delete(sha) and not store.has(sha) and not store.delete(sha)
    with pytest.raises(MediaError):
        store.read(sha)
    assert list((tmp_path / "s" / ".tmp").iterdir()) == []


# -- restarts and concurrency -------------------------------------------------------

def test_damaged_current_falls_back_to_previous(tmp_path, content_server, signer) -> None:
    store = content_server.store
    v1 = content_server.publish(manifest(1, [ref(store, blob(1, 1000))]), signer)
    v2_media = ref(store, blob(2, 1000))
    v2 = content_server.publish(manifest(2, [v2_media]), signer)
    cache = MediaCache(tmp_path / "c")
    run(apply_and_close(cache, v1, v2, key=signer.public_key))
    cache.media_path(v2_media.sha256).write_bytes(b"\0" * 1000)  # same size, wrong bytes

    reborn = MediaCache(tmp_path / "c")
    loaded = reborn.load_current(signer.public_key)
    assert loaded is not None and loaded.version == 1 and reborn.current_version == 1
    # The next apply of v2 repairs it: only the damaged file is fetched again.
    before = content_server.media_requests()
    assert run(apply_and_close(reborn, v2, key=signer.public_key))[0].version == 2
    assert content_server.media_requests() - before == 1
    assert MediaCache(tmp_path / "c").load_current(signer.public_key).version == 2


async def _until(condition, what: str) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_gc_during_an_apply_keeps_what_the_apply_fetched(tmp_path, content_server, signer) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    store = content_server.store
    quick = ref(store, blob(21, 5000))
    held = ref(store, blob(22, 400_000))
    v2 = content_server.publish(manifest(2, [quick, held]), signer)
    content_server.faults[held.sha256] = "hold"

    async def scenario():
        try:
            task = asyncio.create_task(cache.apply(v2, signer.public_key))
            await _until(lambda: cache.media_path(quick.sha256) is not None, "the quick file")
            await _until(lambda: any((tmp_path / "c" / "tmp").iterdir()), "the held download")
            cache.gc()  # e.g. an operator's command arriving mid-apply
            assert cache.media_path(quick.sha256) is not None
            assert any((tmp_path / "c" / "tmp").iterdir())
            # A second apply waits for the first instead of racing it.
            second = asyncio.create_task(cache.apply(v1, signer.public_key))
            await asyncio.sleep(0.05)
            assert not second.done() and cache.current_version == 1
            content_server.release.set()
            applied = await task
            assert applied.version == 2
            return await second
        finally:
            await cache.aclose()

    assert run(scenario()).version == 1
    assert cache.current_version == 1 and cache.previous_sha256 == v2.manifest_sha256
    assert cache.media_path(held.sha256) is not None  # kept: v2 is the previous manifest


def test_oversized_and_over_limit_media_are_refused(tmp_path, content_server, signer) -> None:
    cache, v1 = _applied_v1(tmp_path, content_server, signer)
    store = content_server.store
    data = blob(31, 10_000)
    sha = store.put_bytes(data)
    lying = MediaRef(sha256=sha, mime="image/png", size=5_000)  # server sends more than announced
    v2 = content_server.publish(manifest(2, [lying]), signer)
    with pytest.raises(MediaError, match="more than the announced"):
        run(apply_and_close(cache, v2, key=signer.public_key))
    small_cache = MediaCache(tmp_path / "c", max_media_bytes=1000)
    v3 = content_server.publish(manifest(3, [ref(store, data)]), signer)
    with pytest.raises(MediaError, match="over the limit"):
        run(apply_and_close(small_cache, v3, key=signer.public_key))
    _assert_still_v1(tmp_path, cache, v1, signer)


def test_cache_with_the_plain_asyncio_client(tmp_path, content_server, signer) -> None:
    """The cache takes any client with ``get(url)`` (status + iter_bytes), and its
    OSError-style failures still come out as the cache's own errors."""
    http_get = pytest.importorskip("content.http_get")
    store = content_server.store
    v1 = content_server.publish(manifest(1, [ref(store, blob(41, 300_000)), ref(store, blob(42, 1000))]), signer)
    broken = ref(store, blob(43, 200_000))
    v2 = content_server.publish(manifest(2, [broken]), signer)
    content_server.faults[broken.sha256] = "truncate"
    gone = v1.model_copy(update={"manifest_sha256": "e" * 64, "version": 3,
                                 "manifest_url": "http://127.0.0.1:9/manifests/x.json"})

    async def scenario():
        client = http_get.HttpGetClient(timeout=10)
        cache = MediaCache(tmp_path / "c", http=client)
        try:
            assert (await cache.apply(v1, signer.public_key)).version == 1
            with pytest.raises(MediaError, match="download failed"):
                await cache.apply(v2, signer.public_key)
            with pytest.raises(ManifestError, match="download failed"):
                await cache.apply(gone, signer.public_key)
            return cache
        finally:
            await client.aclose()

    cache = run(scenario())
    _assert_still_v1(tmp_path, cache, v1, signer)
