"""`hall bench vrhall`: build time, draw calls and software-rendered frame
rate with a read-back of every frame (without it llvmpipe/tinydisplay
figures are not real)."""

from __future__ import annotations

import hashlib
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from content.model import Exhibit, MediaRef

SECTIONS = ["开天辟地", "武装斗争", "万里长征", "建立新中国", "社会主义建设", "改革开放", "新时代"]


def _picture(i: int) -> bytes:
    img = Image.new("RGB", (640, 480), (110 + i * 37 % 120, 40 + i * 11 % 60, 30))
    draw = ImageDraw.Draw(img)
    for k in range(6):
        draw.rectangle([40 + k * 90, 380 - (i * 7 + k * 40) % 260, 100 + k * 90, 440], fill=(220, 180, 80))
    import io

    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _egg_cube() -> bytes:
    verts, polys = [], []
    faces = [((0, 0, 1), [(0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]),
             ((0, -1, 0), [(0, 0, 0), (1, 0, 0), (1, 0, 1), (0, 0, 1)]),
             ((1, 0, 0), [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1)]),
             ((0, 1, 0), [(1, 1, 0), (0, 1, 0), (0, 1, 1), (1, 1, 1)]),
             ((-1, 0, 0), [(0, 1, 0), (0, 0, 0), (0, 0, 1), (0, 1, 1)])]
    n = 0
    for normal, corners in faces:
        refs = []
        for c in corners:
            verts.append(f"<Vertex> {n} {{ {c[0]} {c[1]} {c[2]} <Normal> {{ {normal[0]} {normal[1]} {normal[2]} }}"
                         " <RGBA> { 0.85 0.65 0.25 1 } }")
            refs.append(str(n))
            n += 1
        polys.append(f"<Polygon> {{ <VertexRef> {{ {' '.join(refs)} <Ref> {{ cube }} }} }}")
    return ("<CoordinateSystem> { Z-up }\n<VertexPool> cube {\n" + "\n".join(verts) + "\n}\n"
            + "\n".join(polys)).encode()


def synthetic_exhibits(count: int, media_dir: Path) -> list[Exhibit]:
    """``count`` exhibits in chronological sections; one in ten on a pedestal."""
    cube = _egg_cube()
    cube_ref = MediaRef(sha256=hashlib.sha256(cube).hexdigest(), mime="model/x-egg", size=len(cube))
    (media_dir / cube_ref.sha256).write_bytes(cube)
    exhibits = []
    per_section = max(1, count // len(SECTIONS) + 1)
    for i in range(count):
        data = _picture(i)
        ref = MediaRef(sha256=hashlib.sha256(data).hexdigest(), mime="image/jpeg", size=len(data))
        (media_dir / ref.sha256).write_bytes(data)
        section = SECTIONS[min(len(SECTIONS) - 1, i // per_section)]
        exhibits.append(Exhibit(
            id=f"bench-{i}", title=f"{section}展品{i + 1}", section=section, year=1921 + i * 100 // max(1, count),
            caption="这件展品记录了党领导人民艰苦奋斗的光辉历程，见证了中国共产党人的初心和使命。",
            narration="这是一段讲解词。" * 4, image=ref, model=cube_ref if i % 10 == 9 else None))
    return exhibits


def _in_view_geoms(base, report) -> int:
    lens_bounds = base.camNode.getLens().makeBounds()
    lens_bounds.xform(base.cam.getMat(base.render))
    total = 0
    for node in report.room_nodes.values():
        if lens_bounds.contains(node.getBounds()):
            total += sum(g.node().getNumGeoms() for g in node.findAllMatches("**/+GeomNode"))
    return total


def run_bench(counts: list[int], *, frames: int = 120, size: tuple[int, int] = (1280, 720)) -> dict:
    from content.fonts import cjk_font_path

    from .app import HallApp, make_base
    from .scene import HallBuilder

    base = make_base(offscreen=True, size=size)
    media_dir = Path(tempfile.mkdtemp(prefix="vrhall-bench-"))

    def resolve(ref):
        path = media_dir / ref.sha256
        return path if path.is_file() else None

    builder = HallBuilder(base.loader, cjk_font_path(), resolve)
    hall = HallApp(base, builder, interactive=False)
    hall.load([])  # loads the font and warms the pipeline, outside the timings
    runs = []
    for count in counts:
        exhibits = synthetic_exhibits(count, media_dir)
        builder.forget_pictures()  # a cold build decodes every picture
        started = time.perf_counter()
        report = hall.load(exhibits)
        build_s = time.perf_counter() - started
        # A hot reload of the same content reuses the decoded pictures.
        started = time.perf_counter()
        report = hall.load(exhibits)
        reload_s = time.perf_counter() - started
        layout = report.layout
        # Stand in the middle room, in front of its first exhibit: a typical view.
        middle = layout.rooms[len(layout.rooms) // 2]
        first = next(p for p in layout.placements if p.room == middle.index)
        hall.set_pose(first.view)
        started = time.perf_counter()
        base.graphicsEngine.renderFrame()
        base.win.getScreenshot()
        first_frame_s = time.perf_counter() - started
        # Then walk the frame loop turning on the spot, reading every frame back.
        times = []
        for i in range(frames):
            hall.snap_turn(360.0 / frames)
            t0 = time.perf_counter()
            base.graphicsEngine.renderFrame()
            base.win.getScreenshot()
            times.append(time.perf_counter() - t0)
        times.sort()
        runs.append({
            "exhibits": count, "rooms": len(layout.rooms), "build_s": round(build_s, 3), "reload_s": round(reload_s, 3),
            "first_frame_s": round(first_frame_s, 3), "draw_calls_total": report.geoms,
            "draw_calls_in_view": _in_view_geoms(base, report),
            "fps": round(len(times) / sum(times), 1),
            "frame_ms_p50": round(statistics.median(times) * 1000, 2),
            "frame_ms_p99": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 2),
            "skipped": len(report.skipped),
        })
    renderer = base.win.getGsg().getDriverRenderer() or base.pipe.getType().getName()
    base.destroy()
    by_count = {r["exhibits"]: r for r in runs}
    r200 = by_count.get(200)
    return {
        "bench": "vrhall", "renderer": renderer, "size": f"{size[0]}x{size[1]}", "readback_per_frame": True,
        "runs": runs,
        # None when the 200-exhibit case was not run.
        "targets": {"build_200_under_3s": None if r200 is None else r200["build_s"] < 3.0,
                    "draw_calls_200_under_100": None if r200 is None else r200["draw_calls_total"] < 100},
    }
