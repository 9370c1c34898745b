"""The encrypted embedding vault with real photos: consent, deletion without trace,
unreadable without the key, corrupt rows tolerated, re-enrolment."""

from __future__ import annotations

import logging
import sqlite3

import numpy as np
import pytest

from tests.robot.face_fixtures import face_photos, face_pipeline, face_vectors  # noqa: F401  (fixtures)
from robot.face.crypto import generate_key, load_master_key, parse_key
from robot.face.errors import EnrolmentError, VaultError
from robot.face.vault import DB_NAME, EmbeddingVault


def _all_bytes(directory) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


@pytest.fixture()
def key() -> bytes:
    return parse_key(generate_key())


def test_enrol_from_photos_and_identify(tmp_path, key, face_pipeline, face_photos):
    vault = EmbeddingVault(tmp_path / "vault", key)
    vault.enrol_photos(face_pipeline, "m-001", "张三", [face_photos["obama"].read_bytes()], consent=True,
                       consent_by="admin")
    vault.enrol_photos(face_pipeline, "m-002", "李四", [face_photos["biden"].read_bytes()], consent=True)
    gallery = vault.gallery(face_pipeline.embedder)
    assert len(gallery) == 2
    from robot.face.enrolment import enrolment_embedding, read_image

    def who(name):
        match = gallery.search(enrolment_embedding(face_pipeline, read_image(face_photos[name])).vector)
        return match.member.name if match.member else None

    assert who("obama2") == "张三"
    assert who("obama3") == "张三"
    assert who("astronaut") is None
    # Photos are discarded by default: only embeddings are kept.
    assert vault.photos("m-001") == []
    assert vault.member("m-001").photos == 0
    vault.close()


def test_consent_is_required(tmp_path, key, face_pipeline, face_photos, face_vectors):
    vault = EmbeddingVault(tmp_path / "vault", key)
    with pytest.raises(EnrolmentError, match="同意"):
        vault.enrol_photos(face_pipeline, "m-1", "张三", [face_photos["obama"].read_bytes()], consent=False)
    with pytest.raises(EnrolmentError):
        vault.enrol("m-1", "张三", [face_vectors["obama"]], model="dlib_resnet_v1", consent=None)  # type: ignore[arg-type]
    assert vault.members() == []


def test_delete_member_leaves_no_trace(tmp_path, key, face_photos, face_vectors):
    folder = tmp_path / "vault"
    vault = EmbeddingVault(folder, key, keep_photos=True)
    photo = face_photos["obama"].read_bytes()
    vault.enrol("m-001", "张三", [face_vectors["obama"], face_vectors["obama2"]], model="dlib_resnet_v1",
                consent=True, photos=[photo])
    vault.enrol("m-002", "李四", [face_vectors["biden"]], model="dlib_resnet_v1", consent=True)
    assert vault.photos("m-001") == [photo]

    raw = sqlite3.connect(folder / DB_NAME)
    handle = raw.execute("SELECT handle FROM embeddings ORDER BY id LIMIT 1").fetchone()[0]
    sealed = [r[0] for r in raw.execute("SELECT data FROM embeddings WHERE handle = ?", (handle,))]
    sealed += [r[0] for r in raw.execute("SELECT data FROM photos WHERE handle = ?", (handle,))]
    sealed += [r[0] for r in raw.execute("SELECT data FROM members WHERE handle = ?", (handle,))]
    raw.close()
    assert len(sealed) == 4
    before = _all_bytes(folder)
    assert all(s[-32:] in before for s in sealed)  # the scan below would see them

    assert vault.delete_member("m-001") is True
    after = _all_bytes(folder)
    assert handle.encode() not in after
    for blob in sealed:
        assert blob[-32:] not in after and blob[12:44] not in after
    assert photo[1000:1064] not in after
    assert vault.member("m-001") is None and vault.photos("m-001") == []
    assert set(vault.embeddings("dlib_resnet_v1")) == {"m-002"}
    assert sorted(p.name for p in folder.iterdir()) == [DB_NAME]  # no journal or side file left
    assert vault.delete_member("m-001") is False
    vault.close()


def test_embeddings_unreadable_without_key(tmp_path, key, face_vectors):
    folder = tmp_path / "vault"
    with EmbeddingVault(folder, key) as vault:
        vault.enrol("m-001", "张三", [face_vectors["obama"]], model="dlib_resnet_v1", consent=True)
    data = _all_bytes(folder)
    vector_bytes = face_vectors["obama"].astype("<f4").tobytes()
    assert vector_bytes[:16] not in data and vector_bytes[64:80] not in data
    assert "张三".encode() not in data and b"m-001" not in data
    with pytest.raises(VaultError, match="密钥不正确"):
        EmbeddingVault(folder, parse_key(generate_key()))
    with EmbeddingVault(folder, key) as vault:  # the right key still opens it
        assert np.allclose(vault.embeddings("dlib_resnet_v1")["m-001"][1][0], face_vectors["obama"])


def test_corrupt_row_is_skipped_with_a_log_line(tmp_path, key, face_vectors, caplog):
    folder = tmp_path / "vault"
    vault = EmbeddingVault(folder, key)
    vault.enrol("m-001", "张三", [face_vectors["obama"], face_vectors["obama2"]], model="dlib_resnet_v1",
                consent=True)
    vault.enrol("m-002", "李四", [face_vectors["biden"]], model="dlib_resnet_v1", consent=True)
    raw = sqlite3.connect(folder / DB_NAME)
    row_id, blob = raw.execute("SELECT id, data FROM embeddings ORDER BY id LIMIT 1").fetchone()
    damaged = bytearray(blob)
    damaged[20] ^= 0xFF
    raw.execute("UPDATE embeddings SET data = ? WHERE id = ?", (bytes(damaged), row_id))
    raw.commit()
    raw.close()
    with caplog.at_level(logging.WARNING, logger="robot.face.vault"):
        found = vault.embeddings("dlib_resnet_v1")
    assert len(found["m-001"][1]) == 1 and len(found["m-002"][1]) == 1
    assert any(f"id={row_id}" in r.getMessage() for r in caplog.records)
    gallery = vault.gallery(type("E", (), {"name": "dlib_resnet_v1", "metric": "euclidean", "threshold": 0.6})())
    assert gallery.search(face_vectors["obama3"]).member.member_id == "m-001"
    vault.close()


def test_enrolled_twice_replaces_or_merges(tmp_path, key, face_vectors):
    vault = EmbeddingVault(tmp_path / "vault", key, max_embeddings=3)
    vault.enrol("m-001", "张三", [face_vectors["obama"], face_vectors["obama2"]], model="dlib_resnet_v1",
                consent=True)
    record = vault.enrol("m-001", "张三丰", [face_vectors["obama3"]], model="dlib_resnet_v1", consent=True)
    assert record.embeddings == 1 and record.name == "张三丰"
    assert len(vault.members()) == 1
    got = vault.embeddings("dlib_resnet_v1")["m-001"][1]
    assert np.allclose(got[0], face_vectors["obama3"])
    vault.enrol("m-001", "张三丰", [face_vectors["obama"], face_vectors["obama2"], face_vectors["obama3"]],
                model="dlib_resnet_v1", consent=True, replace=False)
    assert vault.member("m-001").embeddings == 3  # merged, capped at the newest three
    vault.close()


def test_key_must_not_live_beside_the_data(tmp_path):
    inside = tmp_path / "vault" / "key.txt"
    inside.parent.mkdir()
    inside.write_text(generate_key())
    with pytest.raises(VaultError, match="不能放在"):
        load_master_key(key=None, key_file=inside, data_dir=tmp_path / "vault")
    outside = tmp_path / "key.txt"
    outside.write_text(generate_key())
    assert len(load_master_key(key=None, key_file=outside, data_dir=tmp_path / "vault")) == 32
    with pytest.raises(VaultError):
        load_master_key(key=None, key_file=None, data_dir=tmp_path)
    with pytest.raises(VaultError):
        parse_key("too-short")
