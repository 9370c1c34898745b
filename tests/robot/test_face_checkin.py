"""Check-in rules (pure), the on-disk outbox, and the agent end to end: a video
file through the real pipeline and a real MQTT broker to an acknowledged CheckIn
and a spoken greeting."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import numpy as np
import pytest

from broker.messages import CheckIn, CheckInAck
from content.model import Meeting
from tests.robot.face_fixtures import face_photos, face_pipeline, face_vectors  # noqa: F401  (fixtures)
from robot.face.checkin import Confirmer, Cooldown, greeting, is_late, open_meeting
from robot.face.config import FaceConfig
from robot.face.gallery import Gallery, Member
from robot.face.outbox import CheckInOutbox

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 09:00 in the hall (Asia/Shanghai)


def meeting(mid="mt1", start=T0, devices=("robot-1",), place="一楼会议室", kind="支部党员大会"):
    return Meeting(id=mid, title=f"{kind} {mid}", meeting_type=kind, branch_id="b1", place=place, starts_at=start,
                   ends_at=start + dt.timedelta(hours=2), expected_members=["m-a", "m-b"],
                   check_in_devices=list(devices))


# -- pure rules -----------------------------------------------------------------------

def test_open_meeting_window_device_and_place():
    meetings = [meeting("early", T0), meeting("later", T0 + dt.timedelta(hours=3)),
                meeting("other", T0, devices=("robot-2",)), meeting("byplace", T0, devices=(), place="二楼")]
    assert open_meeting(meetings, now=T0 - dt.timedelta(minutes=40), device_id="robot-1") is None
    assert open_meeting(meetings, now=T0 - dt.timedelta(minutes=20), device_id="robot-1").id == "early"
    assert open_meeting(meetings, now=T0 + dt.timedelta(hours=2, minutes=50), device_id="robot-1").id == "later"
    assert open_meeting(meetings, now=T0 + dt.timedelta(hours=6), device_id="robot-1") is None
    assert open_meeting(meetings, now=T0, device_id="robot-9", place="二楼").id == "byplace"
    naive = meeting("naive", dt.datetime(2026, 7, 1, 9, 0))  # hall-local time
    assert open_meeting([naive], now=T0, device_id="robot-1").id == "naive"


def test_late_and_greeting():
    m = meeting()
    assert not is_late(m, T0 - dt.timedelta(minutes=1))
    assert is_late(m, T0 + dt.timedelta(minutes=1))
    assert not is_late(m, T0 + dt.timedelta(minutes=1), grace=dt.timedelta(minutes=5))
    assert greeting(FaceConfig().greeting, name="张三", meeting=m) == "张三同志，欢迎参加支部党员大会"


def test_confirmer_and_cooldown_use_monotonic_time():
    confirm = Confirmer(needed=2, window=3.0)
    assert not confirm.observe("a", 100.0)
    assert not confirm.observe("a", 104.0)  # too far apart
    assert confirm.observe("a", 105.0)
    cool = Cooldown(8.0)
    assert cool.ready("x", 10.0) and not cool.ready("x", 12.0) and cool.ready("x", 18.5)


# -- outbox -----------------------------------------------------------------------------

def _checkin(member="m-a", meeting_id="mt1"):
    return CheckIn(site_id="s", device_id="robot-1", meeting_id=meeting_id, member_id=member, member_name="张三",
                   score=0.3)


def test_outbox_survives_restart_and_acks_once(tmp_path):
    box = CheckInOutbox(tmp_path / "outbox")
    first = _checkin()
    assert box.add(first)
    assert not box.add(_checkin())  # same member, same meeting: once
    assert box.add(_checkin(meeting_id="mt2"))
    again = CheckInOutbox(tmp_path / "outbox")  # robot restarted
    assert again.already_checked_in("mt1", "m-a")
    assert {c.checkin_id for c in again.pending()} >= {first.checkin_id}
    assert again.ack(first.checkin_id) is True
    assert again.ack(first.checkin_id) is False  # repeated ack
    assert again.ack("../../etc/passwd") is False
    (again.pending_dir / "broken.json").write_text("{nope")
    (again.directory / "ledger.jsonl").open("a").write("garbage\n")
    assert [c.meeting_id for c in again.pending()] == ["mt2"]
    assert (again.pending_dir / "broken.bad").exists()
    assert CheckInOutbox(tmp_path / "outbox").already_checked_in("mt2", "m-a")


# -- agent with fake frames' embeddings (pure logic, real gallery) --------------------------

class _FakePipeline:
    """Returns pre-computed real embeddings instead of running detection."""

    def __init__(self, faces):
        self.faces = faces

    def analyse(self, frame):
        from robot.face.engines import FaceBox, FaceEmbedding
        from robot.face.pipeline import FrameFaces

        vectors = self.faces.pop(0) if self.faces else []
        return FrameFaces([FaceEmbedding(FaceBox(0, 0, 100, 100), v, np.zeros((5, 2), np.float32)) for v in vectors])


def _agent(tmp_path, vectors_per_frame, face_vectors, clock, mono, meetings=None, **kw):
    from robot.face.agent import CheckInAgent

    gallery = Gallery(model="dlib_resnet_v1", metric="euclidean", threshold=0.6)
    gallery.add(Member("m-a", "张三"), [face_vectors["obama"]])
    gallery.add(Member("m-b", "李四"), [face_vectors["biden"]])
    sent = []
    agent = CheckInAgent(config=FaceConfig(), site_id="s", device_id="robot-1",
                         pipeline=_FakePipeline(vectors_per_frame), gallery=gallery,
                         meetings=lambda: meetings if meetings is not None else [meeting()],
                         outbox=CheckInOutbox(tmp_path / "outbox"), publish=sent.append, wall_clock=clock,
                         monotonic=mono, **kw)
    return agent, sent


def test_agent_clock_jump_never_checks_in_twice(tmp_path, face_vectors):
    wall = [T0.timestamp() - 600]  # ten minutes early
    mono = [1000.0]
    a, b, c = face_vectors["obama2"], face_vectors["biden"], face_vectors["astronaut"]
    frames = [[a, c], [a, b, c], [b], [a], [a], [a]]
    agent, sent = _agent(tmp_path, frames, face_vectors, lambda: wall[0], lambda: mono[0])

    def step(dw=0.1, dm=0.1):
        wall[0] += dw
        mono[0] += dm
        return agent.process_frame(np.zeros((10, 10, 3), np.uint8))

    assert step() == []                         # A seen once: not yet confirmed
    events = step()                             # A confirmed; B seen once
    assert [e.checkin.member_id for e in events] == ["m-a"]
    assert events[0].checkin.late is False and events[0].greeting == "张三同志，欢迎参加支部党员大会"
    wall[0] += 3600                             # the wall clock jumps an hour ahead: now late
    later = step()
    assert [e.checkin.member_id for e in later] == ["m-b"] and later[0].checkin.late is True
    wall[0] -= 7200                             # ...and back before the meeting opened
    assert step() == [] and "当前没有可签到的会议" in agent.stats.messages
    wall[0] += 3600
    assert step() == [] and step() == []        # A again: already checked in
    assert [m.member_id for m in sent] == ["m-a", "m-b"]
    assert agent.stats.unknown == 2             # the astronaut, twice, never checked in
    assert any(m == "张三同志，您已签到" for m in agent.stats.messages)


# -- end to end: video file -> pipeline -> real broker -> ack -------------------------------

async def _admin_stub(settings, received, stop_after=None):
    """Stands in for the admin: stores check-ins by id (exactly once) and acks them."""
    from broker.client import HallClient

    admin = HallClient(settings, client_id="admin-stub", kind="admin", availability=False)

    async def on_checkin(msg: CheckIn):
        received.setdefault(msg.checkin_id, []).append(msg)
        admin.publish(CheckInAck(site_id=msg.site_id, device_id=msg.device_id, checkin_id=msg.checkin_id))

    admin.subscribe(CheckIn, on_checkin, device_id="+")
    await admin.start()
    assert await admin.wait_connected(10)
    return admin


async def _until(predicate, timeout=15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def test_video_to_acked_checkins_through_a_real_broker(tmp_path, mqtt_broker, face_photos, face_pipeline):
    from broker.client import HallClient
    from robot.face.agent import CheckInAgent
    from robot.face.camera import FrameSource
    from robot.face.crypto import generate_key, parse_key
    from robot.face.samples import queue_frames, write_video
    from robot.face.vault import EmbeddingVault

    with EmbeddingVault(tmp_path / "vault", parse_key(generate_key())) as vault:
        vault.enrol_photos(face_pipeline, "m-a", "张三", [face_photos["obama"].read_bytes()], consent=True)
        vault.enrol_photos(face_pipeline, "m-b", "李四", [face_photos["biden"].read_bytes()], consent=True)
        gallery = vault.gallery(face_pipeline.embedder)
    # Two members step up together, then a stranger, then A again.
    frames = queue_frames(face_photos, [("obama2", "biden"), "astronaut", "obama3"], frames_each=3)
    video = write_video(frames, tmp_path / "queue.avi")
    started = dt.datetime.now(UTC) - dt.timedelta(minutes=10)
    settings = mqtt_broker.settings(site_id="test-site")
    greetings: list[str] = []
    spoken = []
    received: dict[str, list[CheckIn]] = {}
    from robot.tts import EspeakTts

    tts = EspeakTts()
    assert tts.problem() is None, tts.problem()

    def greet(text):  # the robot's real TTS engine (espeak-ng, Mandarin pinyin voice)
        greetings.append(text)
        spoken.append(tts.synthesize(text))

    async def scenario():
        admin = await _admin_stub(settings, received)
        client = HallClient(settings, client_id="robot-1", kind="robot")
        outbox = CheckInOutbox(tmp_path / "outbox")
        agent = CheckInAgent(config=FaceConfig(), site_id="test-site", device_id="robot-1", pipeline=face_pipeline,
                             gallery=gallery, meetings=lambda: [meeting(start=started)], outbox=outbox,
                             publish=client.publish, greet=greet)
        agent.attach(client)
        await client.start()
        assert await client.wait_connected(10)
        stats = await agent.run(FrameSource(video))
        assert await _until(lambda: not outbox.pending()), "check-ins were not acknowledged"
        await client.stop()
        await admin.stop()
        return stats

    stats = asyncio.run(scenario())
    stored = {ids[0].member_id: ids[0] for ids in received.values()}
    assert sorted(stored) == ["m-a", "m-b"]                    # A and B, each once; C never
    assert all(len(copies) >= 1 for copies in received.values()) and len(received) == 2
    assert all(c.late and c.meeting_id == "mt1" and c.method == "face" and c.score < 0.6 for c in stored.values())
    assert stored["m-a"].member_name == "张三"
    assert sorted(greetings) == ["张三同志，欢迎参加支部党员大会", "李四同志，欢迎参加支部党员大会"]
    assert stored["m-a"].ts == stored["m-b"].ts  # both checked in from the same frame
    assert all(audio.seconds > 1.0 and audio.rms() > 100 for audio in spoken)
    assert stats.unknown >= 1 and stats.checkins == 2 and stats.frames == len(frames)
    payload = json.loads(stored["m-a"].payload())
    assert not any(k in payload for k in ("image", "photo", "embedding"))  # no image leaves the robot


def test_queued_while_admin_away_delivered_exactly_once(tmp_path, mqtt_broker):
    """A check-in made while the admin was away waits on disk, is resent after a
    restart with the same id, stored once and acked; repeated acks are harmless."""
    from broker.client import HallClient
    from robot.face.agent import CheckInAgent

    outbox = CheckInOutbox(tmp_path / "outbox")
    queued = CheckIn(site_id="test-site", device_id="robot-1", meeting_id="mt1", member_id="m-a",
                     member_name="张三", score=0.31)
    outbox.add(queued)
    settings = mqtt_broker.settings(site_id="test-site")
    received: dict[str, list[CheckIn]] = {}

    async def scenario():
        admin = await _admin_stub(settings, received)
        client = HallClient(settings, client_id="robot-1", kind="robot")
        agent = CheckInAgent(config=FaceConfig(resend_seconds=0.2), site_id="test-site", device_id="robot-1",
                             pipeline=None, gallery=Gallery(model="m", metric="euclidean", threshold=0.6),
                             meetings=list, outbox=CheckInOutbox(tmp_path / "outbox"), publish=client.publish)
        agent.attach(client)
        await client.start()
        assert await client.wait_connected(10)
        assert await _until(lambda: not agent.outbox.pending())
        assert agent.resend_pending(force=True) == 0
        duplicate = agent.handle_ack(CheckInAck(site_id="test-site", device_id="robot-1",
                                                checkin_id=queued.checkin_id))
        await client.stop()
        await admin.stop()
        return duplicate

    assert asyncio.run(scenario()) is False
    assert list(received) == [queued.checkin_id]


def test_no_camera_dark_and_blurred_frames_give_clear_messages(tmp_path, face_photos, face_pipeline):
    import cv2

    from robot.face.agent import CheckInAgent
    from robot.face.camera import FrameSource
    from robot.face.samples import letterbox, write_video

    gallery = Gallery(model="dlib_resnet_v1", metric="euclidean", threshold=0.6)
    from robot.face.enrolment import enrolment_embedding, read_image

    gallery.add(Member("m-a", "张三"), [enrolment_embedding(face_pipeline, read_image(face_photos["obama"])).vector])
    face = letterbox(cv2.imread(str(face_photos["obama2"])), 640, 480)
    frames = [(face * 0.08).astype(np.uint8)] * 2 + [cv2.GaussianBlur(face, (0, 0), 5)] * 2 + [face] * 2
    video = write_video(frames, tmp_path / "bad.avi")
    greetings, shown = [], []

    def make(source_meetings):
        return CheckInAgent(config=FaceConfig(), site_id="s", device_id="robot-1", pipeline=face_pipeline,
                            gallery=gallery, meetings=source_meetings, outbox=CheckInOutbox(tmp_path / "o"),
                            publish=lambda m: None, greet=greetings.append, status=shown.append)

    started = dt.datetime.now(UTC)
    stats = asyncio.run(make(lambda: [meeting(start=started)]).run(FrameSource(video)))
    assert "画面太暗，请打开照明或面向光源" in shown
    assert "画面模糊，请站稳并正对摄像头" in shown, shown
    assert greetings == ["张三同志，欢迎参加支部党员大会"]  # kept running and checked in after the bad frames

    async def no_camera():
        agent = make(list)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(1.5, stop.set)
        return await agent.run(FrameSource("97", reconnect_min=0.1, reconnect_max=0.2), stop=stop)

    stats = asyncio.run(no_camera())
    assert stats.camera_errors >= 2  # kept retrying
    assert any("摄像头无法打开: 97" in s for s in shown)
    with pytest.raises(Exception, match="视频文件不存在"):
        FrameSource(tmp_path / "missing.avi").read()


def test_broker_down_at_check_in_then_up_after_a_restart(tmp_path, face_vectors):
    """The broker (and so the admin) is down when members arrive; the robot even
    restarts before it comes back. Every check-in reaches the admin, each id is
    stored once, and the outbox empties only on acks."""
    import socket

    from broker.client import HallClient
    from broker.embedded import EmbeddedBroker, broker_config
    from broker.settings import HallSettings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = HallSettings(_env_file=None, mqtt_host="127.0.0.1", mqtt_port=port, site_id="test-site")
    received: dict[str, list[CheckIn]] = {}
    wall, mono = [T0.timestamp()], [50.0]

    async def scenario():
        robot = HallClient(settings, client_id="robot-1", kind="robot", reconnect_max=2)
        agent, _ = _agent(tmp_path, [[face_vectors["obama2"], face_vectors["biden"]]] * 2, face_vectors,
                          lambda: wall[0], lambda: mono[0])
        agent.publish = robot.publish
        agent.attach(robot)
        await robot.start()                      # nothing listens on the port yet
        for _ in range(2):
            mono[0] += 0.2
            agent.process_frame(np.zeros((10, 10, 3), np.uint8))
        assert agent.stats.checkins == 2 and len(agent.outbox.pending()) == 2
        await robot.stop()                       # the robot restarts while the admin is away

        broker = EmbeddedBroker(broker_config(host="127.0.0.1", port=port, fleet=None, password_file=None,
                                              allow_anonymous=True))
        await broker.start()
        admin = await _admin_stub(settings, received)
        robot = HallClient(settings, client_id="robot-1", kind="robot")
        restarted, sent = _agent(tmp_path, [], face_vectors, lambda: wall[0], lambda: mono[0])
        restarted.publish = robot.publish
        restarted.attach(robot)
        await robot.start()
        ok = await _until(lambda: not restarted.outbox.pending(), timeout=20)
        await robot.stop()
        await admin.stop()
        await broker.stop()
        return ok, restarted

    ok, restarted = asyncio.run(scenario())
    assert ok, "queued check-ins were not delivered and acked"
    assert sorted(copies[0].member_id for copies in received.values()) == ["m-a", "m-b"]
    assert restarted.outbox.already_checked_in("mt1", "m-a")   # and the ledger survived the restart
