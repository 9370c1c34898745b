"""Face enrolment in the admin (admin/routes/faces.py) with real photos and the
real dlib pipeline: enrol through the API, fetch the signed bundle as the robot,
identify another photo of the same person; consent, deletion without trace,
device authentication."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.admin.conftest import server_errors
from tests.robot.face_fixtures import face_photos, face_pipeline  # noqa: F401  (fixtures)


@pytest.fixture
def faces_hall(hall, tmp_path, face_pipeline):
    """The admin app with the faces router and a vault keyed from config (outside the vault dir)."""
    from admin.faces import FaceServices
    from robot.face.config import FaceConfig
    from robot.face.crypto import generate_key

    config = FaceConfig(_env_file=None, vault_dir=Path(hall.ctx.settings.data_dir) / "admin" / "face-vault",
                        vault_key=generate_key(), keep_photos=False)
    services = FaceServices(config, pipeline=face_pipeline)
    hall.ctx.extras["faces"] = services
    try:
        yield hall
    finally:
        services.close()


def add_member(hall, member_id: str, name: str, no: str, *, consent: bool = True) -> None:
    response = hall["editor"].post("/api/members", json={"id": member_id, "name": name, "member_no": no,
                                                         "branch_id": "b1", "consent_face": consent})
    assert response.status_code == 201, response.text


def enrol(hall, member_id: str, *paths: Path, role: str = "editor"):
    files = [("photos", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    return hall[role].post(f"/api/members/{member_id}/face", files=files)


def provision(hall, device_id: str, kind: str = "robot", groups=("robots",)) -> str:
    response = hall["admin"].post("/api/devices", json={"id": device_id, "kind": kind, "groups": list(groups)})
    assert response.status_code == 201, response.text
    return response.json()["config"]["HALL_MQTT_PASSWORD"]


def publish_meeting(hall, *, devices: list[str], members: list[str], title: str = "十一月支部党员大会") -> str:
    now = dt.datetime.now(dt.timezone.utc)
    data = {"kind": "meeting", "title": title, "meeting_type": "支部党员大会", "branch_id": "b1",
            "place": "一楼会议室", "starts_at": (now + dt.timedelta(minutes=10)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=1)).isoformat(), "expected_members": members,
            "check_in_devices": devices}
    item = hall["editor"].post("/api/items", json={"data": data}).json()
    assert hall["editor"].post(f"/api/items/{item['id']}/submit").status_code == 200
    assert hall["reviewer"].post(f"/api/items/{item['id']}/approve", json={"comment": "同意"}).status_code == 200
    assert hall["publisher"].post(f"/api/items/{item['id']}/publish").status_code == 200
    return item["id"]


def embedding(pipeline, path: Path):
    from robot.face.enrolment import enrolment_embedding, read_image

    return enrolment_embedding(pipeline, read_image(path)).vector


def test_enrol_fetch_bundle_and_identify(faces_hall, face_photos, face_pipeline, tmp_path):
    from robot.face.bundle import unpack_bundle
    from robot.face.errors import BundleError

    hall = faces_hall
    add_member(hall, "m-a", "张三", "0001")
    add_member(hall, "m-b", "李四", "0002")
    add_member(hall, "m-c", "王五", "0003")
    first = enrol(hall, "m-a", face_photos["obama"])
    assert first.status_code == 201, first.text
    assert first.json() == {"member_id": "m-a", "embeddings": 1, "photos_kept": 0,
                            "photos": [{"index": 1, "filename": "obama.jpg", "faces": 1, "used": True,
                                        "problem": None}]}
    assert enrol(hall, "m-b", face_photos["biden"]).status_code == 201
    # C is enrolled but expected only at another device's meeting: robot-1 must not receive C.
    assert enrol(hall, "m-c", face_photos["astronaut"]).status_code == 201
    password = provision(hall, "robot-1")
    publish_meeting(hall, devices=["robot-1"], members=["m-a", "m-b"])
    publish_meeting(hall, devices=["robot-9"], members=["m-c"], title="党小组会")

    response = hall.anon.get("/api/devices/robot-1/face-bundle", auth=("robot-1", password))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    bundle = unpack_bundle(response.content, public_key=hall.ctx.signer.public_key_b64,
                           expected_model=face_pipeline.embedder.name)
    assert bundle.device_id == "robot-1"
    assert sorted((m.member_id, m.name) for m, _ in bundle.members) == [("m-a", "张三"), ("m-b", "李四")]
    gallery = bundle.to_gallery()
    other_a = gallery.search(embedding(face_pipeline, face_photos["obama2"]))
    assert other_a.member is not None and other_a.member.member_id == "m-a" and other_a.distance < 0.6
    assert gallery.search(embedding(face_pipeline, face_photos["astronaut"])).member is None  # C is unknown here

    # Signed: one changed byte and the robot refuses it; another key refuses it too.
    tampered = response.content.replace(b'"payload":"', b'"payload":"A', 1)
    with pytest.raises(BundleError):
        unpack_bundle(tampered, public_key=hall.ctx.signer.public_key_b64)
    from content.signing import ManifestSigner

    with pytest.raises(BundleError):
        unpack_bundle(response.content, public_key=ManifestSigner.generate().public_key_b64)

    # The audit says who enrolled whom, with no image data.
    entries = hall["auditor"].get("/api/audit", params={"action": "face_enrol"}).json()
    assert len(entries) == 3
    assert all("照片 1 张" in e["detail"] and len(e["detail"]) < 100 for e in entries)


def test_sealed_bundle_for_a_device_with_a_key(faces_hall, face_photos, face_pipeline, tmp_path):
    from robot.face.bundle import unpack_bundle
    from robot.face.crypto import generate_key, parse_key
    from robot.face.errors import BundleError

    hall = faces_hall
    keys = tmp_path / "bundle-keys"
    keys.mkdir()
    key = generate_key()
    (keys / "kiosk-9.key").write_text(key + "\n", encoding="ascii")
    services = hall.ctx.extras["faces"]
    services.config = services.config.model_copy(update={"bundle_keys_dir": keys})
    add_member(hall, "m-a", "张三", "0001")
    assert enrol(hall, "m-a", face_photos["obama"], face_photos["obama3"]).json()["embeddings"] == 2
    password = provision(hall, "kiosk-9", kind="kiosk", groups=["lobby"])
    publish_meeting(hall, devices=["kiosk-9"], members=["m-a"])
    data = hall.anon.get("/api/devices/kiosk-9/face-bundle", auth=("kiosk-9", password)).content
    assert b"\xe5\xbc\xa0\xe4\xb8\x89" not in data and "m-a".encode() not in data  # neither name nor id in clear
    with pytest.raises(BundleError, match="未配置解密密钥"):
        unpack_bundle(data, public_key=hall.ctx.signer.public_key_b64)
    bundle = unpack_bundle(data, public_key=hall.ctx.signer.public_key_b64, seal_key=parse_key(key))
    [(member, vectors)] = bundle.members
    assert member.member_id == "m-a" and len(vectors) == 2


def test_enrolment_refused_without_consent_or_with_bad_input(faces_hall, face_photos, tmp_path):
    hall = faces_hall
    add_member(hall, "m-x", "赵六", "0009", consent=False)
    refused = enrol(hall, "m-x", face_photos["obama"])
    assert refused.status_code == 409 and "同意" in refused.json()["detail"]
    vault = hall.ctx.extras["faces"].get_vault()
    assert vault.members() == []

    add_member(hall, "m-y", "钱七", "0010")
    assert enrol(hall, "m-y", face_photos["obama"], role="reviewer").status_code == 403      # editors and admins
    assert hall.anon.post("/api/members/m-y/face",
                          files=[("photos", ("a.jpg", face_photos["obama"].read_bytes()))]).status_code == 401
    assert enrol(hall, "nobody", face_photos["obama"]).status_code == 404
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"<html>not a photo</html>")                  # named .jpg, is not one
    assert enrol(hall, "m-y", fake).status_code == 415
    assert enrol(hall, "m-y", *[face_photos["obama"]] * 6).status_code == 422
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (400, 300), (180, 180, 180)).save(blank)
    no_face = enrol(hall, "m-y", blank)
    assert no_face.status_code == 422
    assert no_face.json()["photos"][0]["faces"] == 0 and no_face.json()["photos"][0]["problem"]
    # One good and one useless photo: the good one is enrolled, the other explained.
    mixed = enrol(hall, "m-y", face_photos["obama"], blank)
    assert mixed.status_code == 201
    assert [(p["faces"], p["used"]) for p in mixed.json()["photos"]] == [(1, True), (0, False)]
    assert vault.member("m-y").embeddings == 1


def _files_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_delete_leaves_no_trace_in_vault_or_database(faces_hall, face_photos, face_pipeline):
    import sqlite3

    from admin.routes.faces import on_member_deleted

    hall = faces_hall
    services = hall.ctx.extras["faces"]
    services.config = services.config.model_copy(update={"keep_photos": True})  # photos too, to delete them
    add_member(hall, "m-a", "张三", "0001")
    add_member(hall, "m-b", "李四", "0002")
    photo = face_photos["obama"].read_bytes()
    result = enrol(hall, "m-a", face_photos["obama"], face_photos["obama2"])
    assert result.status_code == 201 and result.json()["photos_kept"] == 2
    assert enrol(hall, "m-b", face_photos["biden"]).status_code == 201
    vault = services.get_vault()
    handle = vault._cipher.handle("m-a")
    [(_, vectors)] = vault.embeddings(face_pipeline.embedder.name, ["m-a"]).values()
    with sqlite3.connect(services.vault_file) as db:
        sealed = [row[0] for table in ("members", "embeddings", "photos")
                  for row in db.execute(f"SELECT data FROM {table} WHERE handle = ?", (handle,))]
    assert len(sealed) == 1 + 2 + 2
    needles = {"handle": handle.encode(), **{f"sealed{i}": s[12:60] for i, s in enumerate(sealed)},
               **{f"vector{i}": v.astype("<f4").tobytes()[:64] for i, v in enumerate(vectors)},
               "photo": photo[len(photo) // 2:len(photo) // 2 + 64]}
    data_dir = Path(hall.ctx.settings.data_dir)
    before = b"".join(_files_bytes(data_dir).values())
    assert needles["handle"] in before and needles["sealed1"] in before  # the scan does see the vault
    assert needles["vector0"] not in before and needles["photo"] not in before  # nothing ever in clear

    response = hall["editor"].delete("/api/members/m-a/face")
    assert response.status_code == 200
    assert response.json() == {"member_id": "m-a", "deleted": True, "consent_face": False}
    assert hall["editor"].get("/api/members/m-a/face").json()["enrolled"] is False
    hall.ctx.engine.dispose()  # flush SQLite's WAL of the admin database into the files we scan
    for path, content in _files_bytes(data_dir).items():
        for name, needle in needles.items():
            assert needle not in content, f"{name} of the deleted member still in {path}"
    # The consent is recorded as withdrawn: a new enrolment is refused.
    assert enrol(hall, "m-a", face_photos["obama"]).status_code == 409
    assert [m.member_id for m in vault.members()] == ["m-b"]            # B untouched
    # The hook the lead calls when a member is deleted.
    assert on_member_deleted(hall.ctx, "m-b") is True
    assert vault.members() == [] and on_member_deleted(hall.ctx, "m-b") is False
    entries = hall["auditor"].get("/api/audit", params={"action": "face_delete"}).json()
    assert [e["target"] for e in entries] == ["m-a"]


def test_bundle_refuses_anonymous_and_other_devices(faces_hall, face_photos):
    hall = faces_hall
    add_member(hall, "m-a", "张三", "0001")
    assert enrol(hall, "m-a", face_photos["obama"]).status_code == 201
    password = provision(hall, "robot-1")
    other = provision(hall, "robot-2")
    hall_password = provision(hall, "vr-1", kind="vrhall", groups=["hall"])
    publish_meeting(hall, devices=["robot-1"], members=["m-a"])
    url = "/api/devices/robot-1/face-bundle"

    anonymous = hall.anon.get(url)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Basic")
    assert hall.anon.get(url, auth=("robot-1", "wrong-password")).status_code == 401
    assert hall["admin"].get(url).status_code == 401                       # a user is not a device
    wrong_device = hall.anon.get(url, auth=("robot-2", other))
    assert wrong_device.status_code == 403 and "自己" in wrong_device.json()["detail"]
    assert hall.anon.get("/api/devices/vr-1/face-bundle", auth=("vr-1", hall_password)).status_code == 403
    # robot-2 itself has no meeting: its bundle is valid and empty.
    from robot.face.bundle import unpack_bundle

    own = hall.anon.get("/api/devices/robot-2/face-bundle", auth=("robot-2", other))
    assert own.status_code == 200
    assert unpack_bundle(own.content, public_key=hall.ctx.signer.public_key_b64).members == []
    assert hall.anon.get(url, auth=("robot-1", password)).status_code == 200


def test_face_operations_contract(hall, face_photos):
    """The face operations with no vault key configured: no generated request
    gets a 5xx, and every write refuses an anonymous caller."""
    from admin.faces import FaceServices
    from robot.face.config import FaceConfig

    hall.ctx.extras["faces"] = FaceServices(FaceConfig(_env_file=None, vault_dir=Path(hall.ctx.settings.data_dir)
                                                       / "admin" / "face-vault"))  # no key configured
    add_member(hall, "0", "测试", "0000")     # the ids hypothesis tries first exist, with consent
    operations, failures = server_errors(hall.app, hall["admin"].headers["Authorization"],
                                         skip=lambda op: "face" not in op.path)
    assert operations == 4 and failures == []
    add_member(hall, "0", "测试", "0000")     # consent again (a generated DELETE withdrew it)
    unconfigured = enrol(hall, "0", face_photos["obama"])
    assert unconfigured.status_code == 503 and "HALL_FACE_VAULT_KEY" in unconfigured.json()["detail"]
    for method in ("POST", "DELETE"):
        assert hall.anon.request(method, "/api/members/x/face", json={}).status_code == 401


def test_bundle_withholds_names_without_display_consent(faces_hall, face_photos, face_pipeline):
    """A member who did not consent to their name on screens is greeted with a
    neutral form of address: the name never reaches the robot, while the
    admin's attendance record still carries it."""
    from robot.face.bundle import ANONYMOUS_NAME, unpack_bundle

    hall = faces_hall
    response = hall["editor"].post("/api/members", json={"id": "m-q", "name": "赵六", "member_no": "0009",
                                                         "branch_id": "b1", "consent_face": True,
                                                         "consent_display_name": False})
    assert response.status_code == 201, response.text
    add_member(hall, "m-a", "张三", "0001")
    assert enrol(hall, "m-q", face_photos["biden"]).status_code == 201
    assert enrol(hall, "m-a", face_photos["obama"]).status_code == 201
    password = provision(hall, "robot-1")
    publish_meeting(hall, devices=["robot-1"], members=["m-q", "m-a"])
    data = hall.anon.get("/api/devices/robot-1/face-bundle", auth=("robot-1", password)).content
    assert "赵六".encode() not in data
    bundle = unpack_bundle(data, public_key=hall.ctx.signer.public_key_b64, expected_model=face_pipeline.embedder.name)
    assert sorted((m.member_id, m.name) for m, _ in bundle.members) == [("m-a", "张三"), ("m-q", ANONYMOUS_NAME)]
