"""Publishing: sign a group's manifest, store it by hash, post the retained
desired state.

Republishing an unchanged group is a no-op (the comparison ignores version and
timestamp). The last desired state per group is kept on disk and re-posted on
every broker (re)connect, so a publish made while the broker is down goes out
when it returns, and a restarted embedded broker (whose retained messages live
in memory) gets every group's desired state back.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from broker.client import HallClient
from broker.messages import DesiredState
from content.model import Manifest
from content.signing import ManifestSigner, encode_manifest, sha256_hex
from content.store import MediaStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishResult:
    group: str
    version: int
    manifest_sha256: str
    changed: bool
    delivered: bool  # False: the broker is away; queued and re-sent on reconnect


def content_key(manifest: Manifest) -> str:
    """Identity of what a manifest plays, ignoring its version and timestamp."""
    return sha256_hex(encode_manifest(manifest.model_copy(update={"version": 0, "created_at": 0.0})))


class Publisher:
    def __init__(self, *, site_id: str, public_url: str, store: MediaStore, signer: ManifestSigner,
                 state_file: Path, client: HallClient | None = None) -> None:
        self.site_id = site_id
        self.public_url = public_url.rstrip("/")
        self.store = store
        self.signer = signer
        self.state_file = state_file
        self._lock = threading.Lock()
        self._state: dict[str, dict] = self._load()
        self.client: HallClient | None = None
        if client is not None:
            self.attach(client)

    def attach(self, client: HallClient) -> None:
        self.client = client
        client.connection_listeners.append(lambda up: self.republish_all() if up else None)

    # -- queries -------------------------------------------------------------------
    def desired(self, group: str) -> DesiredState | None:
        entry = self._state.get(group)
        return DesiredState.model_validate(entry["desired"]) if entry else None

    def groups(self) -> list[str]:
        return sorted(self._state)

    # -- publishing ----------------------------------------------------------------
    def publish(self, manifest: Manifest) -> PublishResult:
        group = manifest.group
        key = content_key(manifest)
        with self._lock:
            entry = self._state.get(group)
            if entry and entry["content_key"] == key:
                desired = DesiredState.model_validate(entry["desired"])
                return PublishResult(group, desired.version, desired.manifest_sha256, changed=False,
                                     delivered=self._send(desired))
            version = (entry["desired"]["version"] + 1) if entry else max(manifest.version, 1)
            final = manifest.model_copy(update={"version": version, "created_at": time.time(),
                                                "site_id": self.site_id})
            data = encode_manifest(final)
            sha = self.store.put_bytes(data)
            desired = DesiredState(site_id=self.site_id, group=group, version=version, manifest_sha256=sha,
                                   manifest_url=f"{self.public_url}/media/{sha}",
                                   signature=self.signer.sign(data), published_at=time.time())
            self._state[group] = {"content_key": key, "desired": desired.to_dict()}
            self._save()
        delivered = self._send(desired)
        log.info("published group %s version %s (%s)%s", group, version, sha[:12],
                 "" if delivered else "; broker away, queued")
        return PublishResult(group, version, sha, changed=True, delivered=delivered)

    def republish_all(self) -> None:
        for group in self.groups():
            desired = self.desired(group)
            if desired is not None:
                self._send(desired)

    def _send(self, desired: DesiredState) -> bool:
        if self.client is None or not self.client.connected:
            return False
        self.client.publish(desired)
        return True

    # -- state file ------------------------------------------------------------------
    def _load(self) -> dict[str, dict]:
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.error("publish state %s unreadable (%s); starting empty", self.state_file, exc)
            return {}

    def _save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=self.state_file.parent, delete=False, encoding="utf-8") as tmp:
            json.dump(self._state, tmp, ensure_ascii=False, indent=1)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, self.state_file)
