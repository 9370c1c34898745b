"""Who may fetch what from ``/media/{sha256}``.

Published media is meant for every screen on the intranet: every manifest the
admin ever published, and every file such a manifest names, is served to
anyone (screens fetch it without credentials, and a caching proxy may keep it).
Everything else in the store — uploads still in review, device screenshots,
thumbnails for the editor — needs a signed-in user; otherwise knowing a hash
would be enough to read a draft.

The set of public hashes is rebuilt lazily: a request for a hash that is not
yet known public looks at the publisher's current desired states (memory) and,
once per process, at the publish history in the audit log, then decides. A
fresh publish therefore becomes public the first time a screen asks for it,
with no hook in the publishing path.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import Request
from sqlalchemy import select

from content.model import Manifest

log = logging.getLogger(__name__)



class MediaAccess:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._public: set[str] = set()
        self._manifests_seen: set[str] = set()
        self._history_loaded = False
        self._lock = threading.Lock()

    def known_public(self, sha256: str) -> bool:
        """The fast path, safe on the event loop: a set lookup."""
        return sha256 in self._public

    def is_public(self, sha256: str) -> bool:
        if sha256 in self._public:
            return True
        with self._lock:
            self._refresh()
        return sha256 in self._public

    def _refresh(self) -> None:
        manifests: set[str] = set()
        publisher = self.ctx.extras.get("publisher")
        if publisher is not None:
            for group in publisher.groups():
                desired = publisher.desired(group)
                if desired is not None:
                    manifests.add(desired.manifest_sha256)
        if not self._history_loaded:
            manifests |= self._published_history()
            self._history_loaded = True
        for sha in manifests - self._manifests_seen:
            self._add_manifest(sha)

    def _published_history(self) -> set[str]:
        from admin.models import AuditEntry, DeviceGroup

        with self.ctx.sessions() as session:
            found = set(session.scalars(select(AuditEntry.version_sha256).where(
                AuditEntry.action == "publish_group", AuditEntry.version_sha256.is_not(None))))
            found |= set(session.scalars(select(DeviceGroup.manifest_sha256).where(
                DeviceGroup.manifest_sha256.is_not(None))))
        return found

    def _add_manifest(self, sha: str) -> None:
        self._manifests_seen.add(sha)
        try:
            manifest = Manifest.model_validate_json(self.ctx.store.path(sha).read_bytes())
        except (OSError, ValueError) as exc:
            # A manifest that cannot be read names nothing; it stays private.
            log.warning("published manifest %s unreadable, its media stay private: %s", sha[:12], exc)
            return
        self._public.add(sha)
        self._public.update(manifest.media_refs())


def media_access(request: Request) -> MediaAccess | None:
    """The admin's access rule, or None for a bare media server (benchmarks,
    delivery tests), which serves only what it was given to serve."""
    ctx = getattr(request.app.state, "ctx", None)
    if ctx is None:
        return None
    access = ctx.extras.get("media_access")
    if access is None:
        access = ctx.extras.setdefault("media_access", MediaAccess(ctx))
    return access
