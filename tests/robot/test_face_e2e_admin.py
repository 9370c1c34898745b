"""The whole chain the issue asks for: a video of members arriving → the robot's
check-in agent (real Haar + dlib) → a real MQTT broker → the real admin bus,
which stores the check-in (no image) and publishes the kiosks' AttendanceBoard;
the greeting is synthesised by the robot's real TTS (espeak-ng)."""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.robot.face_fixtures import face_photos, face_pipeline  # noqa: F401  (fixtures)


def test_video_to_stored_checkin_and_kiosk_board(tmp_path, mqtt_broker, face_photos, face_pipeline):
    from sqlalchemy import inspect, select

    from admin.app import build_context
    from admin.bus import FleetBus
    from admin.crud import items
    from admin.models import CheckInRow
    from admin.settings import AdminSettings
    from broker.client import HallClient
    from broker.messages import AttendanceBoard
    from content.model import Meeting
    from robot.face.agent import CheckInAgent
    from robot.face.camera import FrameSource
    from robot.face.config import FaceConfig
    from robot.face.enrolment import enrolment_embedding, read_image
    from robot.face.gallery import Gallery, Member
    from robot.face.outbox import CheckInOutbox
    from robot.face.samples import queue_frames, write_video
    from robot.tts import EspeakTts

    settings = AdminSettings(_env_file=None, data_dir=tmp_path / "admin", mqtt_enabled=True,
                             mqtt_host=mqtt_broker.host, mqtt_port=mqtt_broker.port, site_id="test-site",
                             admin_url="http://127.0.0.1:9")
    ctx = build_context(settings)
    now = dt.datetime.now(dt.timezone.utc)
    data = {"kind": "meeting", "title": "七月支部党员大会", "meeting_type": "支部党员大会", "branch_id": "b1",
            "place": "一楼会议室", "starts_at": (now + dt.timedelta(minutes=5)).isoformat(),
            "ends_at": (now + dt.timedelta(hours=1)).isoformat(), "expected_members": ["m-a", "m-b", "m-c"],
            "check_in_devices": ["robot-1"]}
    with ctx.sessions() as session:
        meeting_item, _ = items.create(session, author=None, data=data)
        session.commit()
        meeting_id = meeting_item.id
    # What the robot gets in its manifest.
    meeting = Meeting.model_validate({**data, "id": meeting_id})

    gallery = Gallery.for_embedder(face_pipeline.embedder)
    gallery.add(Member("m-a", "张三"), [enrolment_embedding(face_pipeline, read_image(face_photos["obama"])).vector])
    gallery.add(Member("m-b", "李四"), [enrolment_embedding(face_pipeline, read_image(face_photos["biden"])).vector])
    frames = queue_frames(face_photos, ["obama2", "astronaut", "biden", "obama3"], frames_each=3)
    video = write_video(frames, tmp_path / "queue.avi")
    tts = EspeakTts()
    spoken: list[tuple[str, float]] = []
    boards: list[AttendanceBoard] = []
    robot_settings = mqtt_broker.settings(site_id="test-site")

    async def scenario():
        bus = FleetBus(ctx)
        await bus.start()
        kiosk = HallClient(robot_settings, client_id="kiosk-1", kind="kiosk", groups=["lobby"])

        async def on_board(board: AttendanceBoard) -> None:
            boards.append(board)

        kiosk.subscribe(AttendanceBoard, on_board, group="+", meeting_id=meeting_id)
        robot = HallClient(robot_settings, client_id="robot-1", kind="robot")
        outbox = CheckInOutbox(tmp_path / "outbox")
        agent = CheckInAgent(config=FaceConfig(), site_id="test-site", device_id="robot-1", pipeline=face_pipeline,
                             gallery=gallery, meetings=lambda: [meeting], outbox=outbox, publish=robot.publish,
                             greet=lambda text: spoken.append((text, tts.synthesize(text).seconds)))
        agent.attach(robot)
        for client in (kiosk, robot):
            await client.start()
            assert await client.wait_connected(10)
        assert await bus.client.wait_connected(10)
        await agent.run(FrameSource(video))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while (outbox.pending() or not boards or len(boards[-1].present) < 2) and loop.time() < deadline:
            await asyncio.sleep(0.1)
        for client in (robot, kiosk):
            await client.stop()
        await bus.stop()
        return outbox

    outbox = asyncio.run(scenario())
    assert outbox.pending() == []                                          # every check-in acked
    with ctx.sessions() as session:
        rows = session.scalars(select(CheckInRow).where(CheckInRow.meeting_id == meeting_id)).all()
        assert sorted((r.member_id, r.member_name, r.device_id, r.method, r.late) for r in rows) == [
            ("m-a", "张三", "robot-1", "face", False), ("m-b", "李四", "robot-1", "face", False)]
        assert all(r.score is not None and r.score < 0.6 for r in rows)
        columns = {c["name"] for c in inspect(ctx.engine).get_columns("checkins")}
        assert not columns & {"image", "photo", "embedding"}                # stored with no image
    board = boards[-1]
    assert board.meeting_id == meeting_id and board.expected == 3
    assert sorted(p["name"] for p in board.present) == ["张三", "李四"]   # the kiosks' live board
    assert [text for text, _ in spoken] == ["张三同志，欢迎参加支部党员大会", "李四同志，欢迎参加支部党员大会"]
    assert all(seconds > 1.0 for _, seconds in spoken)                    # real synthesised speech
    ctx.engine.dispose()
