"""The encrypted embedding vault: members' face embeddings (and, only when the
operator turns it on, their enrolment photos), deletable without trace.

Storage is one SQLite file (stdlib, atomic, no server) with:

- ``members``: handle -> sealed JSON (member id, name, consent record)
- ``embeddings``: handle, model -> sealed float32 vector, one row per photo
- ``photos``: handle -> sealed JPEG/PNG bytes (only with keep_photos)
- ``meta``: a sealed check value, so a wrong key is a clear error at open

Every record is AES-256-GCM sealed with its row context as associated data, so
a row copied onto another member does not decrypt. The handle is an HMAC of
the member id: without the key the file tells nobody who is enrolled.
``secure_delete`` makes SQLite overwrite deleted rows with zeros and the
rollback journal is removed after each transaction, so deleting a member leaves
none of their bytes in the vault directory. (On SSDs and copy-on-write file
systems old blocks may survive below the file system; the records are
encrypted for that reason.)

A row that does not decrypt (corrupt disk, manual edit) is skipped with a log
line; the rest of the vault keeps working.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .crypto import DecryptError, RecordCipher, load_master_key
from .errors import EnrolmentError, VaultError
from .gallery import Gallery, Member

log = logging.getLogger(__name__)

DB_NAME = "vault.sqlite3"
_CHECK = b"dangjian-hall face vault"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS members (handle TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS embeddings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, handle TEXT NOT NULL, model TEXT NOT NULL,
    created REAL NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS embeddings_handle ON embeddings (handle, model);
CREATE TABLE IF NOT EXISTS photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT, handle TEXT NOT NULL, created REAL NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS photos_handle ON photos (handle);
"""


@dataclass(frozen=True)
class MemberRecord:
    member_id: str
    name: str
    consent_at: float
    consent_by: str | None
    enrolled_at: float
    embeddings: int = 0
    photos: int = 0


class EmbeddingVault:
    def __init__(self, directory: Path, master_key: bytes, *, keep_photos: bool = False,
                 max_embeddings: int = 5) -> None:
        self.directory = Path(directory)
        self.keep_photos = keep_photos
        self.max_embeddings = max_embeddings
        self._cipher = RecordCipher(master_key)
        self._lock = threading.RLock()
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        path = self.directory / DB_NAME
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute("PRAGMA journal_mode = DELETE")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise VaultError(f"人脸库文件损坏或不是数据库: {path}: {exc}") from exc
        os.chmod(path, 0o600)
        self._check_key()

    @classmethod
    def from_config(cls, config) -> "EmbeddingVault":
        key = load_master_key(key=config.vault_key.get_secret_value() if config.vault_key else None,
                              key_file=config.vault_key_file, data_dir=config.vault_dir)
        return cls(config.vault_dir, key, keep_photos=config.keep_photos,
                   max_embeddings=config.max_embeddings_per_member)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "EmbeddingVault":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_key(self) -> None:
        row = self._db.execute("SELECT data FROM meta WHERE name = 'check'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta (name, data) VALUES ('check', ?)",
                             (self._cipher.seal(_CHECK, b"meta|check"),))
            return
        try:
            ok = self._cipher.open(row[0], b"meta|check") == _CHECK
        except DecryptError:
            ok = False
        if not ok:
            raise VaultError("人脸库密钥不正确，无法打开人脸库")

    # -- writing ------------------------------------------------------------------
    def enrol(self, member_id: str, name: str, vectors: Sequence[np.ndarray], *, model: str, consent: bool,
              consent_by: str | None = None, photos: Iterable[bytes] = (), replace: bool = True) -> MemberRecord:
        """Store a member's embeddings. ``consent`` must be True (recorded by the admin).

        ``replace`` (default) drops the member's earlier embeddings and photos, so
        enrolling twice leaves exactly the new set; ``replace=False`` merges and
        keeps the newest ``max_embeddings``. Photos are discarded unless the vault
        keeps photos.
        """
        if consent is not True:
            raise EnrolmentError("未记录本人同意，不能采集人脸信息")
        if not member_id or not vectors:
            raise EnrolmentError("缺少成员编号或人脸特征")
        rows = [np.asarray(v, dtype=np.float32).ravel() for v in vectors]
        if any(not np.all(np.isfinite(r)) for r in rows) or len({r.shape for r in rows}) != 1:
            raise EnrolmentError("人脸特征无效")
        handle = self._cipher.handle(member_id)
        now = time.time()
        with self._lock, self._transaction():
            previous = self._member(handle)
            record = {"member_id": member_id, "name": name, "consent_at": now, "consent_by": consent_by,
                      "enrolled_at": previous.enrolled_at if previous and not replace else now}
            self._db.execute("INSERT OR REPLACE INTO members (handle, data) VALUES (?, ?)",
                             (handle, self._cipher.seal(_json(record), _ctx("member", handle))))
            if replace:
                self._db.execute("DELETE FROM embeddings WHERE handle = ?", (handle,))
                self._db.execute("DELETE FROM photos WHERE handle = ?", (handle,))
            for row in rows[-self.max_embeddings:]:
                self._db.execute(
                    "INSERT INTO embeddings (handle, model, created, data) VALUES (?, ?, ?, ?)",
                    (handle, model, now, self._cipher.seal(row.astype("<f4").tobytes(), _ctx("emb", handle, model))))
            # Merging keeps only the newest max_embeddings per model.
            self._db.execute(
                "DELETE FROM embeddings WHERE handle = ? AND model = ? AND id NOT IN "
                "(SELECT id FROM embeddings WHERE handle = ? AND model = ? ORDER BY id DESC LIMIT ?)",
                (handle, model, handle, model, self.max_embeddings))
            if self.keep_photos:
                for photo in photos:
                    self._db.execute("INSERT INTO photos (handle, created, data) VALUES (?, ?, ?)",
                                     (handle, now, self._cipher.seal(bytes(photo), _ctx("photo", handle))))
        record_out = self.member(member_id)
        assert record_out is not None
        return record_out

    def enrol_photos(self, pipeline, member_id: str, name: str, photos: Sequence[bytes], *, consent: bool,
                     consent_by: str | None = None, replace: bool = True) -> MemberRecord:
        """Embed 1-5 enrolment photos (one face each) and store the embeddings.

        Consent is checked before any photo is even decoded.
        """
        from .enrolment import decode_image, enrolment_embedding

        if consent is not True:
            raise EnrolmentError("未记录本人同意，不能采集人脸信息")
        if not 1 <= len(photos) <= self.max_embeddings:
            raise EnrolmentError(f"请提供 1 到 {self.max_embeddings} 张照片")
        vectors = [enrolment_embedding(pipeline, decode_image(p)).vector for p in photos]
        return self.enrol(member_id, name, vectors, model=pipeline.embedder.name, consent=consent,
                          consent_by=consent_by, photos=photos, replace=replace)

    def delete_member(self, member_id: str) -> bool:
        """Delete every embedding, photo and record of a member (withdrawn consent,
        member removed). True when there was something to delete."""
        handle = self._cipher.handle(member_id)
        with self._lock:
            with self._transaction():
                counts = [self._db.execute(f"DELETE FROM {table} WHERE handle = ?", (handle,)).rowcount
                          for table in ("members", "embeddings", "photos")]
            # secure_delete zeroes the freed cells; VACUUM also drops the freed pages
            # so the file does not even keep their layout.
            self._db.execute("VACUUM")
        return any(counts)

    withdraw_consent = delete_member

    # -- reading ------------------------------------------------------------------
    def member(self, member_id: str) -> MemberRecord | None:
        with self._lock:
            return self._member(self._cipher.handle(member_id))

    def members(self) -> list[MemberRecord]:
        with self._lock:
            handles = [r[0] for r in self._db.execute("SELECT handle FROM members ORDER BY rowid")]
            found = [self._member(h) for h in handles]
        return [m for m in found if m is not None]

    def embeddings(self, model: str, member_ids: Iterable[str] | None = None) -> dict[str, tuple[Member, list[np.ndarray]]]:
        """member_id -> (member, vectors) for one model; corrupt rows are skipped with a log line."""
        with self._lock:
            if member_ids is None:
                handles = [r[0] for r in self._db.execute("SELECT handle FROM members")]
            else:
                handles = [self._cipher.handle(m) for m in member_ids]
            out: dict[str, tuple[Member, list[np.ndarray]]] = {}
            for handle in handles:
                record = self._member(handle)
                if record is None:
                    continue
                vectors = []
                for row_id, data in self._db.execute(
                        "SELECT id, data FROM embeddings WHERE handle = ? AND model = ? ORDER BY id", (handle, model)):
                    try:
                        raw = self._cipher.open(data, _ctx("emb", handle, model))
                        vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
                        if vector.size == 0 or not np.all(np.isfinite(vector)):
                            raise DecryptError("not a vector")
                    except DecryptError as exc:
                        log.warning("人脸库: 跳过损坏的特征记录 id=%s (%s)", row_id, exc)
                        continue
                    vectors.append(vector)
                if vectors:
                    out[record.member_id] = (Member(record.member_id, record.name), vectors)
        return out

    def gallery(self, embedder, *, threshold: float | None = None, min_margin: float = 0.0,
                member_ids: Iterable[str] | None = None) -> Gallery:
        gallery = Gallery.for_embedder(embedder, threshold=threshold, min_margin=min_margin)
        for member, vectors in self.embeddings(embedder.name, member_ids).values():
            try:
                gallery.add(member, vectors)
            except ValueError as exc:
                log.warning("人脸库: 成员 %s 的特征维度不符，已跳过 (%s)", member.member_id, exc)
        return gallery

    def photos(self, member_id: str) -> list[bytes]:
        handle = self._cipher.handle(member_id)
        out = []
        with self._lock:
            for row_id, data in self._db.execute("SELECT id, data FROM photos WHERE handle = ? ORDER BY id", (handle,)):
                try:
                    out.append(self._cipher.open(data, _ctx("photo", handle)))
                except DecryptError as exc:
                    log.warning("人脸库: 跳过损坏的照片记录 id=%s (%s)", row_id, exc)
        return out

    # -- internals ------------------------------------------------------------------
    def _member(self, handle: str) -> MemberRecord | None:
        row = self._db.execute("SELECT data FROM members WHERE handle = ?", (handle,)).fetchone()
        if row is None:
            return None
        try:
            data = json.loads(self._cipher.open(row[0], _ctx("member", handle)))
        except (DecryptError, ValueError) as exc:
            log.warning("人脸库: 跳过损坏的成员记录 %s… (%s)", handle[:8], exc)
            return None
        emb = self._db.execute("SELECT COUNT(*) FROM embeddings WHERE handle = ?", (handle,)).fetchone()[0]
        pho = self._db.execute("SELECT COUNT(*) FROM photos WHERE handle = ?", (handle,)).fetchone()[0]
        return MemberRecord(data["member_id"], data["name"], data["consent_at"], data.get("consent_by"),
                            data["enrolled_at"], emb, pho)

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _ctx(kind: str, handle: str, extra: str = "") -> bytes:
    return f"{kind}|{handle}|{extra}".encode("utf-8")


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")
