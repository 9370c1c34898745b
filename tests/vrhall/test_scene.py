"""The hall on a real Panda3D offscreen buffer (p3tinydisplay)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from content.model import Exhibit
from vrhall.layout import Pose

EGG_CUBE = """<CoordinateSystem> { Z-up }
<VertexPool> cube {
%s
}
%s
"""


def egg_cube() -> bytes:
    verts, polys, n = [], [], 0
    faces = [((0, 0, 1), [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]),
             ((0, -1, 0), [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)]),
             ((1, 0, 0), [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)]),
             ((0, 1, 0), [(1, 1, 0), (0, 1, 0), (0, 1, 1), (1, 1, 1)]),
             ((-1, 0, 0), [(0, 1, 0), (0, 0, 0), (0, 0, 1), (0, 1, 1)])]
    for normal, corners in faces:
        refs = []
        for c in corners:
            verts.append(f"  <Vertex> {n} {{ {c[0]} {c[1]} {c[2] * 2} <Normal> {{ {normal[0]} {normal[1]} {normal[2]} }} "
                         f"<RGBA> {{ 0.8 0.6 0.2 1 }} }}")
            refs.append(str(n))
            n += 1
        polys.append(f"<Polygon> {{ <VertexRef> {{ {' '.join(refs)} <Ref> {{ cube }} }} }}")
    return (EGG_CUBE % ("\n".join(verts), "\n".join(polys))).encode()


def test_screenshot_in_front_of_exhibit_shows_its_title(hall_app, exhibits, tmp_path):
    if shutil.which("tesseract") is None:
        pytest.skip("tesseract-ocr is not installed")
    hall_app.load(exhibits)
    assert hall_app.goto_exhibit_now("zunyi")
    hall_app.close_card()  # the title must come from the 3D panel, not the overlay
    shot = hall_app.screenshot(tmp_path / "zunyi.png")
    text = subprocess.run(["tesseract", str(shot), "-", "-l", "chi_sim"], capture_output=True, text=True,
                          timeout=120).stdout
    assert "遵义会议" in text.replace(" ", "")
    assert "开国大典" not in text.replace(" ", "")


def test_missing_texture_no_section_and_broken_model_still_build(hall_app, exhibits, add_media):
    good = add_media(egg_cube(), "model/x-egg")
    broken = add_media(b"glTF not really a model", "model/gltf-binary")
    from tests.vrhall.conftest import gltf_pyramid

    pyramid = add_media(gltf_pyramid(), "model/gltf+json")
    extra = [
        Exhibit(id="cube", title="党徽模型", section="开国大典", year=1950, model=good),
        Exhibit(id="pyramid", title="纪念碑模型", section="开国大典", year=1950, model=pyramid),
        Exhibit(id="broken", title="损坏的模型", section="开国大典", year=1951, model=broken),
        Exhibit(id="gone", title="丢失的图片", section="开国大典", year=1952,
                image=exhibits[0].image.model_copy(update={"sha256": "0" * 64})),
    ]
    report = hall_app.load(exhibits + extra)
    notes = "\n".join(report.skipped)
    assert "broken" in notes and "已改为展板" in notes
    assert "gone" in notes and "占位" in notes
    assert "其他" in notes
    assert "cube" not in notes and "pyramid" not in notes  # .egg and glTF (panda3d-gltf) both load
    # The good model stands on its pedestal: its node is under the models of that room.
    room = report.layout.placement("cube").room
    models = report.room_nodes[room].find(f"models-{room}")
    geoms = sum(n.node().getNumGeoms() for n in models.findAllMatches("**/+GeomNode"))
    assert not models.isEmpty() and geoms >= 2
    assert report.layout.rooms[-1].section == "其他"


def test_two_hundred_exhibits_under_a_hundred_draw_calls(hall_app, exhibits):
    many = [Exhibit(id=f"x{i}", title=f"展品第{i}号", section=f"第{i // 25}展区", year=1921 + i // 2,
                    caption="展品说明文字" * 3, image=exhibits[i % 5].image) for i in range(200)]
    report = hall_app.load(many)
    assert len(report.layout.rooms) >= 13
    assert report.geoms < 100


def test_hot_reload_adds_a_room_and_keeps_the_visitor_in_place(hall_app, exhibits):
    first = hall_app.load(exhibits)
    rooms_before = len(first.layout.rooms)
    room = next(r for r in first.layout.rooms if r.section == "长征精神")
    x, y = room.bounds.x0 + 6.0, room.bounds.y0 + 7.0
    hall_app.set_pose(Pose(x, y, 33.0))
    hall_app.fly_to("kaiguo")  # a glide under way when the new content lands...
    hall_app.set_pose(Pose(x, y, 33.0))
    added = exhibits + [Exhibit(id="gaige", title="改革开放", section="改革开放", year=1978, caption="伟大的觉醒。")]
    second = hall_app.load(added)
    assert len(second.layout.rooms) == rooms_before + 1
    assert len(hall_app.base.render.findAllMatches("**/room-*")) == rooms_before + 1
    assert first.root.isEmpty()  # the old hall is gone
    new_room = second.layout.room_at(hall_app.pose.x, hall_app.pose.y)
    assert new_room.key == room.key
    assert (hall_app.pose.x - new_room.bounds.x0, hall_app.pose.y - new_room.bounds.y0) == pytest.approx((6.0, 7.0))
    assert hall_app.pose.h == 33.0
    cancelled = [m for m in hall_app.published if getattr(m, "state", None) == "cancelled"]
    assert cancelled and cancelled[0].reason == "展厅内容已更新"  # ...is ended, and says why
    # A visitor whose room disappears is brought back to the entrance.
    hall_app.set_pose(Pose(x, y, 0.0))
    third = hall_app.load([e for e in added if e.section != "长征精神"])
    assert (hall_app.pose.x, hall_app.pose.y) == pytest.approx((third.layout.entrance.x, third.layout.entrance.y))


def test_click_flies_to_the_exhibit_and_opens_the_card(hall_app, exhibits):
    report = hall_app.load(exhibits)
    p = report.layout.placement("luding")
    # Stand further back than the viewing spot, looking at the panel.
    fx, fy = p.view.forward
    hall_app.set_pose(Pose(p.view.x - fx * 1.5, p.view.y - fy * 1.5, p.view.h))
    assert hall_app.click() == "luding"
    states = [m.state for m in hall_app.published if hasattr(m, "state")]
    assert states == ["accepted", "moving"]
    clock = {"t": hall_app.clock()}
    hall_app.clock = lambda: clock["t"]
    for _ in range(100):
        clock["t"] += 0.1
        hall_app.render_frames(1)
        if hall_app.published[-1].state == "arrived":
            break
    hall_app.render_frames(1)
    assert [m.state for m in hall_app.published if hasattr(m, "state")][-1] == "arrived"
    assert (hall_app.pose.x, hall_app.pose.y) == pytest.approx((p.view.x, p.view.y))
    assert "泸定桥" in hall_app.overlay.card_text()
    assert hall_app.subtitle_text()


def test_stereo_adds_two_eyes(hall_app, exhibits, tmp_path):
    hall_app.load(exhibits)
    hall_app.goto_exhibit_now("kaiguo")
    hall_app.enable_stereo()
    assert len(hall_app.rig.eyes) == 2
    shot = hall_app.screenshot(tmp_path / "stereo.png")
    from PIL import Image

    img = Image.open(shot).convert("L")
    w, h = img.size
    left = img.crop((0, 0, w // 2, h))
    right = img.crop((w // 2, 0, w, h))
    # Two similar but not identical views (the eyes are apart).
    assert left.getbbox() and right.getbbox()
    hall_app.disable_stereo()
    assert hall_app.rig.eyes == []


def test_snap_turn_and_teleport(hall_app, exhibits):
    report = hall_app.load(exhibits)
    start = report.layout.entrance
    hall_app.set_pose(start)
    hall_app.snap_turn(30)
    assert hall_app.pose.h == pytest.approx(start.h + 30)
    hall_app.set_pose(Pose(start.x, start.y, start.h, start.z, -30.0))  # look down at the floor ahead
    assert hall_app.teleport()
    assert hall_app.pose.y > start.y + 1.0


def test_manifest_from_the_network_thread_rebuilds_in_the_frame_task(hall_app, exhibits):
    from content.model import Manifest

    hall_app.load(exhibits[:3])
    assert len(hall_app.layout.rooms) == 1
    manifest = Manifest(site_id="test-site", group="hall", version=2, created_at=0.0, items=list(exhibits))
    hall_app.inbox.put(manifest)  # what the Endpoint thread does on a new manifest
    hall_app.render_frames(1)
    assert len(hall_app.layout.rooms) == 4


def test_walking_keys_move_and_walls_stop(hall_app, exhibits):
    report = hall_app.load(exhibits)
    hall_app.interactive = True
    start = report.layout.entrance
    hall_app.set_pose(start)
    hall_app._keys["forward"] = True
    for _ in range(200):
        hall_app._walk(0.1)
    hall_app._keys["forward"] = False
    room = report.layout.rooms[0]
    assert hall_app.pose.y > start.y + 3
    assert room.bounds.contains(hall_app.pose.x, hall_app.pose.y)  # the far wall stopped the walk
    assert hall_app.minimap_marker()[1] > 0


def test_gazing_at_an_exhibit_in_stereo_selects_it(hall_app, exhibits):
    report = hall_app.load(exhibits)
    clock = {"t": 1000.0}
    hall_app.clock = lambda: clock["t"]
    hall_app.load(exhibits)  # the guide takes the injected clock
    p = report.layout.placement("nanhu")
    fx, fy = p.view.forward
    hall_app.set_pose(type(p.view)(p.view.x - fx, p.view.y - fy, p.view.h))
    hall_app.enable_stereo()
    for _ in range(40):
        clock["t"] += 0.1
        hall_app.render_frames(1)
    goto = [m for m in hall_app.published if getattr(m, "state", None) == "accepted"]
    assert goto and goto[0].exhibit_id == "nanhu"


def test_on_screen_buttons_drive_the_tour(hall_app, exhibits):
    hall_app.load(exhibits)
    hall_app.overlay.add_controls(hall_app.local)
    by_label = {b["text"]: b for b in hall_app.overlay.buttons}
    assert set(by_label) == {"导览", "暂停/继续", "下一站", "停止"}
    by_label["导览"]["command"](*by_label["导览"]["extraArgs"])
    by_label["暂停/继续"]["command"](*by_label["暂停/继续"]["extraArgs"])
    assert hall_app.guide.paused
    by_label["停止"]["command"](*by_label["停止"]["extraArgs"])
    assert not hall_app.guide.active
    assert [m.state for m in hall_app.published if hasattr(m, "state")] == [
        "accepted", "moving", "accepted", "accepted", "cancelled"]


def test_opening_a_card_narrates_with_real_espeak(hall_app, exhibits):
    tts = pytest.importorskip("robot.tts")
    engine = tts.EspeakTts()
    if engine.problem():
        pytest.skip(engine.problem())
    sink = tts.SilentSink(realtime=False)
    speaker = tts.Speaker(engine, sink=sink)
    hall_app.narrator = speaker
    try:
        hall_app.load(exhibits)
        hall_app.goto_exhibit_now("zunyi")
        assert speaker.wait_idle(30)
        assert sink.played and sum(a.seconds for a in sink.played) > 1.0
    finally:
        hall_app.narrator = None
        speaker.close()


def test_tour_follows_the_route_from_content(hall_app, exhibits):
    from content.model import Manifest, Playlist, PlaylistEntry, Schedule

    manifest = Manifest(site_id="test-site", group="hall", version=1, created_at=0.0, items=list(exhibits),
                        playlists=[Playlist(id="t", name="精华", entries=[PlaylistEntry(item_id="kaiguo", duration_s=12),
                                                                          PlaylistEntry(item_id="yida", duration_s=9)])],
                        schedule=Schedule(default_playlist_id="t"))
    hall_app.load_manifest(manifest)
    hall_app.local("tour")
    assert hall_app.guide.stops == ["kaiguo", "yida"]
    assert hall_app.guide.dwell_s("kaiguo") == 12


def test_far_jumps_fade_through_black(hall_app):
    many = [Exhibit(id=f"f{i}", title=f"展品{i}", section=f"第{i // 16}展区", year=1921 + i) for i in range(120)]
    report = hall_app.load(many)
    clock = {"t": 500.0}
    hall_app.clock = lambda: clock["t"]
    report = hall_app.load(many)
    hall_app.set_pose(report.layout.entrance)
    hall_app.fly_to("f119")  # many rooms away: no glide through the walls
    assert hall_app.guide.flight.jump
    clock["t"] += hall_app.guide.flight.duration / 2
    hall_app.render_frames(1)
    assert not hall_app.overlay.fade.isHidden() and hall_app.overlay.fade.getColorScale()[3] > 0.8
    clock["t"] += hall_app.guide.flight.duration
    hall_app.render_frames(2)
    assert hall_app.overlay.fade.isHidden()
    view = report.layout.placement("f119").view
    assert (hall_app.pose.x, hall_app.pose.y) == pytest.approx((view.x, view.y))


def test_stereo_hangs_card_and_subtitles_in_front_of_the_eyes(hall_app, exhibits):
    hall_app.load(exhibits)
    hall_app.enable_stereo()
    hall_app.goto_exhibit_now("kaiguo")
    assert hall_app.overlay.card.getParent() == hall_app.base.camera
    assert hall_app.overlay.minimap.isHidden()
    hall_app.disable_stereo()
    assert hall_app.overlay.card.getParent() == hall_app.base.aspect2d
    assert not hall_app.overlay.minimap.isHidden()


def test_joystick_input_walks_the_visitor(hall_app, exhibits):
    report = hall_app.load(exhibits)
    hall_app.set_pose(report.layout.entrance)
    hall_app.stick_input = (1.0, 0.0)
    for _ in range(10):
        hall_app._walk(0.1)
    hall_app.stick_input = (0.0, 0.0)
    assert hall_app.pose.y > report.layout.entrance.y + 1.5


def test_interactive_hall_binds_keys_buttons_and_joystick_and_cleans_up(panda_base, resolver, exhibits, tmp_path):
    from content.fonts import cjk_font_path
    from vrhall.app import HallApp
    from vrhall.scene import HallBuilder

    app = HallApp(panda_base, HallBuilder(panda_base.loader, cjk_font_path(), resolver), interactive=True)
    try:
        app.load(exhibits)
        assert {"w", "mouse1", "t", "escape", "q"} <= set(app._events)
        assert len(app.overlay.buttons) == 5  # four tour buttons and the joystick
        panda_base.messenger.send("t")  # the keyboard starts the tour
        assert app.guide.mode == "tour"
        app.screenshot(tmp_path / "ui.png")
    finally:
        app.destroy()
    assert not panda_base.isAccepting("t")
