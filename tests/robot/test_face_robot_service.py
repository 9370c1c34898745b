"""`hall robot --camera VIDEO` end to end, in-process: the robot service
(robot/runner.py ``_main``) with its real Endpoint on a real broker follows the
manifest a real admin publishes, fetches its signed face bundle from the admin
(HTTP Basic with its MQTT credentials), checks members in from a video file,
greets them through its speaker (real espeak-ng synthesis, silent sink), and the
admin stores and acks each check-in once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from tests.admin.conftest import LiveAdmin, _free_port, admin_settings, template_dir  # noqa: F401  (fixture)
from tests.robot.face_fixtures import face_photos, face_pipeline  # noqa: F401  (fixtures)


@pytest.fixture
def face_admin(tmp_path, template_dir, mqtt_broker, face_pipeline):  # noqa: F811
    import shutil

    from admin.faces import FaceServices
    from robot.face.config import FaceConfig
    from robot.face.crypto import generate_key

    root, tokens = template_dir
    shutil.copytree(root / "data", tmp_path / "data")
    settings = admin_settings(tmp_path, mqtt_enabled=True, mqtt_host=mqtt_broker.host, mqtt_port=mqtt_broker.port,
                              admin_url=f"http://127.0.0.1:{_free_port()}")
    admin = LiveAdmin(settings, tokens)
    services = FaceServices(FaceConfig(_env_file=None, vault_dir=tmp_path / "data" / "admin" / "face-vault",
                                       vault_key=generate_key()), pipeline=face_pipeline)
    admin.ctx.extras["faces"] = services
    admin.start()
    try:
        yield admin
    finally:
        admin.stop()
        services.close()


def prepare_admin(admin, face_photos) -> tuple[str, str]:  # noqa: F811
    """Members A and B enrolled, robot-1 provisioned, a meeting published: (meeting id, robot password)."""
    editor, reviewer, publisher = (admin.client(r) for r in ("editor", "reviewer", "publisher"))
    for member_id, name, no, photo in (("m-a", "张三", "0001", "obama"), ("m-b", "李四", "0002", "biden")):
        assert editor.post("/api/members", json={"id": member_id, "name": name, "member_no": no,
                                                 "consent_face": True}).status_code == 201
        path = face_photos[photo]
        enrolled = editor.post(f"/api/members/{member_id}/face", files=[("photos", (path.name, path.read_bytes()))])
        assert enrolled.status_code == 201, enrolled.text
    device = admin.client("admin").post("/api/devices", json={"id": "robot-1", "kind": "robot",
                                                              "groups": ["robots"]})
    assert device.status_code == 201, device.text
    now = dt.datetime.now(dt.timezone.utc)
    meeting = editor.post("/api/items", json={"data": {
        "kind": "meeting", "title": "十一月支部党员大会", "meeting_type": "支部党员大会", "branch_id": "b1",
        "place": "一楼会议室", "starts_at": (now + dt.timedelta(minutes=5)).isoformat(),
        "ends_at": (now + dt.timedelta(hours=1)).isoformat(), "expected_members": ["m-a", "m-b", "m-c"],
        "check_in_devices": ["robot-1"]}}).json()
    assert editor.post(f"/api/items/{meeting['id']}/submit").status_code == 200
    assert reviewer.post(f"/api/items/{meeting['id']}/approve", json={}).status_code == 200
    assert publisher.post(f"/api/items/{meeting['id']}/publish").status_code == 200
    return meeting["id"], device.json()["config"]["HALL_MQTT_PASSWORD"]


def test_video_to_checkins_greetings_and_acks(tmp_path, mqtt_broker, face_admin, face_photos, capsys):  # noqa: F811
    from sqlalchemy import select

    from admin.models import CheckInRow
    from broker.client import HallClient
    from broker.messages import CheckIn
    from robot.face.samples import queue_frames, write_video
    from robot.runner import _main
    from robot.settings import RobotSettings
    from robot.tts import EspeakTts, SilentSink, Speaker

    tts = EspeakTts()
    if tts.problem():
        pytest.skip(tts.problem())
    meeting_id, password = prepare_admin(face_admin, face_photos)
    # A arrives, B arrives, a stranger, then A again (must not be checked in twice).
    frames = queue_frames(face_photos, ["obama2", "biden", "astronaut", "obama3"], frames_each=3)
    video = write_video(frames, tmp_path / "queue.avi")
    settings = RobotSettings(_env_file=None, site_id="test-site", data_dir=tmp_path / "robot-data",
                             mqtt_host=mqtt_broker.host, mqtt_port=mqtt_broker.port, mqtt_username="robot-1",
                             mqtt_password=password, admin_url=face_admin.url,
                             public_key=face_admin.ctx.signer.public_key_b64, device_id="robot-1", groups=["robots"])
    started: list[str] = []
    received: list[CheckIn] = []
    output: list[str] = []
    pending_dir = settings.device_dir("robot-1") / "face-outbox" / "pending"

    def printed() -> str:
        output.append(capsys.readouterr().out)
        return "".join(output)

    async def run_robot(video_file, *, greetings: int) -> None:
        """The robot service until the video has been processed, its check-ins acked and greetings spoken."""
        subscriber = HallClient(mqtt_broker.settings(site_id="test-site"), client_id="watcher", kind="kiosk")

        async def on_checkin(message: CheckIn) -> None:
            received.append(message)

        subscriber.subscribe(CheckIn, on_checkin, device_id="robot-1")
        await subscriber.start()
        assert await subscriber.wait_connected(10)
        speaker = Speaker(tts, sink=SilentSink(realtime=False),
                          on_event=lambda e: started.append(e.text) if e.kind == "start" else None)
        stop = asyncio.Event()
        robot = asyncio.create_task(_main(settings, "robot-1", None, text=None, wav=None, mic=False, speak=True,
                                          once=False, camera=str(video_file), speaker=speaker, stop=stop))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not robot.done():
            if "画面结束" in printed() and not list(pending_dir.glob("*.json")) and len(started) >= greetings:
                break
            await asyncio.sleep(0.2)
        stop.set()
        assert await robot == 0
        await asyncio.sleep(0.3)  # a late duplicate would arrive now
        await subscriber.stop()

    asyncio.run(run_robot(video, greetings=2))
    out = printed()
    assert "画面结束" in out, out
    # Each member checked in once, with the same id however often it was (re)sent.
    by_member = {}
    for message in received:
        by_member.setdefault(message.member_id, set()).add(message.checkin_id)
    assert {k: len(v) for k, v in by_member.items()} == {"m-a": 1, "m-b": 1}
    assert {m.meeting_id for m in received} == {meeting_id} and all(m.method == "face" for m in received)
    assert "张三同志，您已签到" in out                             # A seen again, not checked in again
    # Acked by the admin: nothing left in the robot's outbox, one row per member in the admin.
    assert list(pending_dir.glob("*.json")) == []
    with face_admin.ctx.sessions() as session:
        rows = session.scalars(select(CheckInRow).where(CheckInRow.meeting_id == meeting_id)).all()
        assert sorted((r.member_id, r.member_name, r.device_id) for r in rows) == [
            ("m-a", "张三", "robot-1"), ("m-b", "李四", "robot-1")]
    # Greeted through the robot's speaker (real synthesis: the speaker reports first audio per sentence).
    assert started == ["张三同志，欢迎参加支部党员大会", "李四同志，欢迎参加支部党员大会"]
    assert "机器人：张三同志，欢迎参加支部党员大会" in out
    # The verified bundle is cached on the robot for when the admin is away.
    assert (settings.device_dir("robot-1") / "face" / "gallery.bundle").is_file()

    # Restart with the admin away: the cached manifest and bundle still recognise A,
    # and the ledger on disk keeps A from being checked in (or greeted) twice.
    face_admin.stop()
    output.clear()
    received.clear()
    again = write_video(queue_frames(face_photos, ["obama3"], frames_each=3), tmp_path / "again.avi")
    asyncio.run(run_robot(again, greetings=2))
    out = printed()
    assert "画面结束" in out and "张三同志，您已签到" in out, out
    assert received == [] and len(started) == 2

def test_missing_camera_keeps_the_voice_service(tmp_path, mqtt_broker, capsys):
    """No camera: a clear Chinese message, and the robot still answers questions."""
    from content.signing import ManifestSigner
    from robot.runner import _main
    from robot.settings import RobotSettings

    settings = RobotSettings(_env_file=None, site_id="test-site", data_dir=tmp_path / "robot-data",
                             mqtt_host=mqtt_broker.host, mqtt_port=mqtt_broker.port,
                             public_key=ManifestSigner.generate().public_key_b64, device_id="robot-1",
                             groups=["robots"])
    kb_file = tmp_path / "kb.yaml"
    kb_file.write_text("faq:\n  - id: hours\n    questions: [展厅几点开门？]\n    answer: 展厅九点开门。\n",
                       encoding="utf-8")
    from robot.knowledge import load_kb

    code = asyncio.run(_main(settings, "robot-1", load_kb(kb_file), text="展厅几点开门", wav=None, mic=False,
                             speak=False, once=False, camera=str(tmp_path / "no-such-video.avi")))
    out = capsys.readouterr().out
    assert code == 0
    assert "人脸签到：视频文件不存在" in out and "语音导览照常运行" in out
    assert "机器人：展厅九点开门。" in out
