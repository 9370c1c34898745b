"""Garbage collection after an apply looks only at what the switch let go; a
full sweep (``gc()``, run when an endpoint starts) catches leftovers."""

from __future__ import annotations

from content.cache import MediaCache
from tests.content.test_cache import apply_and_close, blob, manifest, ref, run


def test_apply_frees_the_dropped_manifests_own_media_and_keeps_shared_ones(tmp_path, content_server, signer):
    store = content_server.store
    shared, a, b, c, d = (ref(store, blob(i, 2000 + i)) for i in range(5))
    published = [content_server.publish(manifest(1, [shared, a]), signer),
                 content_server.publish(manifest(2, [b]), signer),
                 content_server.publish(manifest(3, [shared, c]), signer),
                 content_server.publish(manifest(4, [d]), signer)]
    cache = MediaCache(tmp_path / "c")
    run(apply_and_close(cache, *published[:3], key=signer.public_key))
    # v1 dropped when v3 came: its own picture went, the one v3 shares stayed
    assert cache.media_path(a.sha256) is None and cache.media_path(shared.sha256) is not None
    orphan = tmp_path / "c" / "media" / "ee" / ("ee" + "1" * 62)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"z" * 10)
    cache2 = MediaCache(tmp_path / "c")
    run(apply_and_close(cache2, published[3], key=signer.public_key))
    # v2 dropped now: b goes; v3 (previous) keeps shared and c
    assert cache2.media_path(b.sha256) is None
    assert all(cache2.media_path(x.sha256) is not None for x in (shared, c, d))
    assert cache2.gc() == 10 and not orphan.exists(), "the full sweep finds what no apply owned"
