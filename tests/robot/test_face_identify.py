"""Recognition with the real engines on real photos of different people."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.robot.face_fixtures import face_photos, face_pipeline, face_vectors, gallery_dir  # noqa: F401  (fixtures)
from robot.face.gallery import Gallery, Member


def test_gallery_identifies_other_photos_of_a_and_rejects_unknown(face_vectors):
    gallery = Gallery(model="dlib_resnet_v1", metric="euclidean", threshold=0.6)
    gallery.add(Member("A", "奥巴马"), [face_vectors["obama"]])
    gallery.add(Member("B", "拜登"), [face_vectors["biden"]])

    for other in ("obama2", "obama3"):
        match = gallery.search(face_vectors[other])
        assert match.member is not None and match.member.member_id == "A", (other, match)
        assert match.distance < 0.6
    assert gallery.search(face_vectors["biden"]).member.member_id == "B"

    unknown = gallery.search(face_vectors["astronaut"])
    assert unknown.member is None
    assert unknown.distance > 0.6
    assert unknown.nearest is not None  # still reported for threshold tuning


def test_unknown_never_accepted_even_with_many_members(face_vectors):
    """10,000 synthetic members near the real ones' scale must not capture the unknown face."""
    rng = np.random.default_rng(7)
    gallery = Gallery(model="dlib_resnet_v1", metric="euclidean", threshold=0.6)
    gallery.add(Member("A", "A"), [face_vectors["obama"]])
    gallery.add(Member("B", "B"), [face_vectors["biden"]])
    centre = (face_vectors["obama"] + face_vectors["biden"]) / 2
    for i in range(2000):
        gallery.add(Member(f"m{i}", f"m{i}"), [centre + rng.normal(0, 0.12, 128).astype(np.float32)])
    assert gallery.search(face_vectors["astronaut"]).member is None
    assert gallery.search(face_vectors["obama2"]).member.member_id == "A"


def test_min_margin_refuses_ambiguous_matches(face_vectors):
    vec = face_vectors["obama"]
    gallery = Gallery(model="m", metric="euclidean", threshold=0.6, min_margin=0.05)
    gallery.add(Member("A", "A"), [vec])
    gallery.add(Member("twin", "twin"), [vec + 0.001])
    match = gallery.search(vec)
    assert match.member is None and match.margin < 0.05


def test_search_matches_brute_force_distances(face_vectors):
    rng = np.random.default_rng(1)
    rows = rng.normal(0, 0.1, (50, 128)).astype(np.float32)
    gallery = Gallery(model="m", metric="euclidean", threshold=0.6)
    for i, row in enumerate(rows):
        gallery.add(Member(str(i), str(i)), [row])
    q = face_vectors["obama"]
    np.testing.assert_allclose(gallery.distances(q), np.linalg.norm(rows - q, axis=1), rtol=1e-4, atol=1e-4)

    cos = Gallery(model="m", metric="cosine", threshold=0.637)
    for i, row in enumerate(rows):
        cos.add(Member(str(i), str(i)), [row])
    expected = 1 - (rows @ q) / (np.linalg.norm(rows, axis=1) * np.linalg.norm(q))
    np.testing.assert_allclose(cos.distances(q), expected, rtol=1e-4, atol=1e-4)


def test_empty_gallery_and_bad_vectors():
    gallery = Gallery(model="m", metric="euclidean", threshold=0.6)
    assert gallery.search(np.zeros(128)).member is None
    gallery.add(Member("A", "A"), [np.zeros(128)])
    with pytest.raises(ValueError):
        gallery.add(Member("B", "B"), [np.zeros(64)])
    with pytest.raises(ValueError):
        gallery.add(Member("C", "C"), [np.full(128, np.nan)])


def test_identify_cli_json(gallery_dir, face_photos):
    images = [face_photos["obama2"], face_photos["obama3"], face_photos["biden"], face_photos["astronaut"]]
    result = subprocess.run(
        [sys.executable, "-c", "from robot.face.cli import app; app()", "identify", "--gallery", str(gallery_dir),
         "--json", *map(str, images)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in records] == [str(p) for p in images]
    assert [r["person"] for r in records] == ["obama", "obama", "biden", None]
    assert all(r["faces"] == 1 for r in records)
    assert records[0]["distance"] < 0.6 and records[3]["distance"] > 0.6


def test_pipeline_reports_dark_and_blurred_frames(face_pipeline, face_photos):
    import cv2

    image = cv2.imread(str(face_photos["obama"]))
    dark = (image * 0.1).astype(np.uint8)
    assert face_pipeline.analyse(dark).problem == "画面太暗，请打开照明或面向光源"
    blurred = cv2.GaussianBlur(image, (0, 0), 8)
    frame = face_pipeline.analyse(blurred)
    assert not frame.faces
    assert frame.problem is None or "模糊" in frame.problem or "太远" in frame.problem


def test_enrolment_refuses_photo_without_face(face_pipeline):
    from robot.face.enrolment import decode_image, enrolment_embedding
    from robot.face.errors import EnrolmentError

    with pytest.raises(EnrolmentError):
        decode_image(b"not an image")
    with pytest.raises(EnrolmentError):
        enrolment_embedding(face_pipeline, np.full((400, 400, 3), 128, np.uint8))


def test_operator_models_missing_give_clear_errors(tmp_path, face_photos):
    """YuNet and SFace are in no package: choosing them without the file is a clear error."""
    from robot.face.config import FaceConfig
    from robot.face.embedders import SFaceEmbedder
    from robot.face.engines import FaceBox, make_detector, make_embedder
    from robot.face.errors import FaceError, ModelMissingError

    with pytest.raises(ModelMissingError, match="HALL_FACE_YUNET_MODEL"):
        make_detector(FaceConfig(detector="yunet"))
    with pytest.raises(ModelMissingError, match="不存在"):
        make_embedder(FaceConfig(embedder="sface", sface_model=tmp_path / "missing.onnx"))
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(FaceError):
        make_detector(FaceConfig(detector="yunet", yunet_model=bogus))
    sface = SFaceEmbedder.__new__(SFaceEmbedder)  # the landmark check comes before the network
    with pytest.raises(FaceError, match="YuNet"):
        sface.embed(np.zeros((100, 100, 3), np.uint8), FaceBox(0, 0, 50, 50))


def test_hog_detector_finds_the_same_people(face_photos, face_vectors):
    from robot.face.config import FaceConfig
    from robot.face.enrolment import enrolment_embedding, read_image
    from robot.face.pipeline import FacePipeline

    hog = FacePipeline.from_config(FaceConfig(detector="hog"))
    gallery = Gallery(model="dlib_resnet_v1", metric="euclidean", threshold=0.6)
    gallery.add(Member("A", "A"), [face_vectors["obama"]])
    gallery.add(Member("B", "B"), [face_vectors["biden"]])
    found = {n: gallery.search(enrolment_embedding(hog, read_image(face_photos[n])).vector).member
             for n in ("obama3", "biden", "astronaut")}
    assert found["obama3"].member_id == "A" and found["biden"].member_id == "B" and found["astronaut"] is None


def test_run_cli_checks_in_from_a_video_and_keeps_unacked_on_disk(tmp_path, gallery_dir, face_photos, mqtt_broker):
    """`hall robot face run` wiring: meetings file, folder gallery, video camera, broker
    up but no admin: both members checked in, both kept on disk for the admin."""
    import datetime as dt
    import os

    from robot.face.samples import queue_frames, write_video

    video = write_video(queue_frames(face_photos, [("obama2", "biden"), "astronaut"], frames_each=3),
                        tmp_path / "q.avi")
    now = dt.datetime.now(dt.timezone.utc)
    meetings = tmp_path / "meetings.json"
    meetings.write_text(json.dumps([{
        "kind": "meeting", "id": "mt1", "title": "支部党员大会", "meeting_type": "支部党员大会", "branch_id": "b1",
        "starts_at": (now - dt.timedelta(minutes=1)).isoformat(), "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
        "check_in_devices": ["robot-9"]}], ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, HALL_MQTT_HOST=mqtt_broker.host, HALL_MQTT_PORT=str(mqtt_broker.port),
               HALL_DEVICE_ID="robot-9", HALL_SITE_ID="test-site", HALL_FACE_OUTBOX_DIR=str(tmp_path / "outbox"),
               HALL_ENV_FILE=str(tmp_path / "none.env"))
    result = subprocess.run(
        [sys.executable, "-c", "from robot.face.cli import app; app()", "run", "--meetings", str(meetings),
         "--camera", str(video), "--gallery", str(gallery_dir), "--no-speak"],
        capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "obama同志，欢迎参加支部党员大会" in result.stdout and "biden同志，欢迎参加支部党员大会" in result.stdout
    assert "签到 2 人" in result.stdout
    pending = sorted(json.loads(p.read_text())["member_id"] for p in (tmp_path / "outbox" / "pending").glob("*.json"))
    assert pending == ["biden", "obama"]
