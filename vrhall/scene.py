"""Builds the Panda3D scene graph of the hall from a layout.

Per room: one untextured mesh (floor, carpet, ceiling, walls, frames,
pedestals; light baked into vertex colours), one textured mesh over the room's
image atlas, the text of the room's panels in the CJK font, and the pedestal
models. Each room is flattened on its own, so a room is a handful of draw
calls and rooms out of view are culled whole.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from content.model import Exhibit, MediaRef

from .atlas import Atlas, load_picture, placeholder, to_panda_texture
from .captions import wrap_text
from .layout import HallLayout, LayoutSpec, Placement, Rect, Room, build_layout
from .mesh import MeshBuilder

log = logging.getLogger(__name__)

Resolver = Callable[[MediaRef], "Path | None"]

# Palette: warm cream walls over a deep red wainscot, gold trim, a red carpet.
WALL = (0.93, 0.87, 0.74, 1.0)
WAINSCOT = (0.46, 0.08, 0.06, 1.0)
GOLD = (0.86, 0.66, 0.28, 1.0)
FLOOR = (0.36, 0.22, 0.15, 1.0)
CARPET = (0.62, 0.06, 0.05, 1.0)
CEILING = (0.78, 0.71, 0.60, 1.0)
LIGHT_PANEL = (1.0, 0.96, 0.86, 1.0)
BOARD = (0.42, 0.05, 0.04, 1.0)
STONE = (0.30, 0.20, 0.17, 1.0)
TITLE_COLOR = (0.98, 0.84, 0.50, 1.0)
CAPTION_COLOR = (0.97, 0.93, 0.84, 1.0)

_MODEL_EXT = {"model/gltf-binary": ".glb", "model/gltf+json": ".gltf", "application/x-bam": ".bam",
              "model/x-bam": ".bam", "application/x-egg": ".egg", "model/x-egg": ".egg"}


@dataclass
class BuildReport:
    layout: HallLayout
    root: object  # NodePath
    skipped: list[str]
    seconds: float
    room_nodes: dict[int, object] = field(default_factory=dict)

    @property
    def geoms(self) -> int:
        """Draw calls when every room is in view (culling only lowers it)."""
        return count_geoms(self.root)


def count_geoms(root) -> int:
    return sum(np.node().getNumGeoms() for np in root.findAllMatches("**/+GeomNode"))


@dataclass
class HallBuilder:
    loader: object                         # direct.showbase.Loader.Loader
    font_path: Path
    resolve: Resolver = lambda ref: None
    spec: LayoutSpec = field(default_factory=LayoutSpec)
    atlas_size: tuple[int, int] = (1024, 1024)
    atlas_slot: tuple[int, int] = (256, 192)
    _font: object = None
    _pictures: dict = field(default_factory=dict, repr=False)

    @property
    def font(self):
        if self._font is None:
            font = self.loader.loadFont(str(self.font_path))
            # The font pool shares one font per file: configure it only before
            # its first glyph is rendered (Panda3D refuses it afterwards).
            if font.getNumPages() == 0:
                font.setPixelsPerUnit(56)
                font.setPageSize(1024, 1024)
            self._font = font
        return self._font

    def build(self, exhibits: Sequence[Exhibit], parent=None) -> BuildReport:
        from panda3d.core import NodePath

        started = time.perf_counter()
        layout = build_layout(exhibits, self.spec)
        by_id = {e.id: e for e in exhibits}
        skipped = list(layout.notes)
        root = NodePath("hall")
        if parent is not None:
            root.reparentTo(parent)
        room_nodes = {}
        walls_by_room = _walls_by_room(layout)
        for room in layout.rooms:
            placements = [p for p in layout.placements if p.room == room.index]
            node = self._build_room(layout, room, placements, by_id, walls_by_room.get(room.index, []), skipped)
            node.reparentTo(root)
            room_nodes[room.index] = node
        return BuildReport(layout, root, skipped, time.perf_counter() - started, room_nodes)

    # -- one room -------------------------------------------------------------
    def _build_room(self, layout: HallLayout, room: Room, placements: list[Placement],
                    by_id: dict[str, Exhibit], walls: list[Rect], skipped: list[str]):
        from panda3d.core import NodePath, TransparencyAttrib

        spec = self.spec
        node = NodePath(f"room-{room.index}")
        shell = MeshBuilder(f"shell-{room.index}")
        self._shell(shell, layout, room, walls)
        atlas = Atlas(_atlas_size(self.atlas_size, self.atlas_slot, len(placements)), self.atlas_slot)
        pictures = MeshBuilder(f"pictures-{room.index}", textured=True)
        texts = node.attachNewNode(f"texts-{room.index}")
        models = node.attachNewNode(f"models-{room.index}")

        for side in ("S", "E", "N", "W"):
            if side not in room.door_sides:
                self._banner(shell, texts, room, side)

        for p in placements:
            exhibit = by_id[p.exhibit_id]
            picture = self._picture(exhibit.image) if exhibit.image else None
            if picture is None and exhibit.model is None:
                reason = "没有图片" if exhibit.image is None else "图片缺失或无法读取"
                skipped.append(f"展品 {exhibit.id}「{exhibit.title}」{reason}，已用占位卡片")
            if p.kind == "panel":
                slot = atlas.add(picture or placeholder(exhibit.title, atlas.slot, self.font_path))
                self._panel(shell, pictures, texts, p, exhibit, atlas.uv(slot))
            else:
                self._pedestal(shell, texts, p, exhibit)
                model = self._load_model(exhibit)
                if model is None:
                    skipped.append(f"展品 {exhibit.id}「{exhibit.title}」的模型无法加载，已改为展板")
                    slot = atlas.add(picture or placeholder(exhibit.title, atlas.slot, self.font_path))
                    u0, v0, u1, v1 = atlas.uv(slot)
                    top = spec.pedestal_height
                    pictures.vertical_rect(p.x, p.y, p.facing, 0.96, top + 0.05, top + 0.77, 0.0,
                                           (1, 1, 1, 1), [(u0, v0), (u1, v0), (u1, v1), (u0, v1)], lit=False)
                    shell.vertical_rect(p.x, p.y, p.facing, 1.04, top + 0.01, top + 0.81, -0.01, GOLD)
                else:
                    model.reparentTo(models)
                    self._fit_model(model, p)

        node.attachNewNode(shell.node())
        if pictures.count:
            pic = node.attachNewNode(pictures.node())
            pic.setTexture(to_panda_texture(atlas, f"atlas-{room.index}"))
        texts.setTransparency(TransparencyAttrib.MAlpha)
        texts.setDepthOffset(1)
        texts.flattenStrong()
        if models.getNumChildren():
            self._light_models(models)
        # Models keep their own states; flatten them on their own so their
        # lights stay put, and merge everything else of the room.
        models.detachNode()
        node.flattenStrong()
        models.reparentTo(node)
        models.flattenStrong()
        return node

    def _shell(self, mesh: MeshBuilder, layout: HallLayout, room: Room, walls: list[Rect]) -> None:
        spec = self.spec
        b, H = room.bounds, spec.wall_height
        mesh.quad([(b.x0, b.y0, 0), (b.x1, b.y0, 0), (b.x1, b.y1, 0), (b.x0, b.y1, 0)], (0, 0, 1), FLOOR)
        cx, cy = b.center
        w = 1.3  # carpet half width along the central cross, door to door
        for x0, y0, x1, y1 in ((b.x0, cy - w, b.x1, cy + w), (cx - w, b.y0, cx + w, b.y1)):
            mesh.quad([(x0, y0, 0.004), (x1, y0, 0.004), (x1, y1, 0.004), (x0, y1, 0.004)], (0, 0, 1), CARPET)
        for x0, y0, x1, y1 in ((b.x0, cy - w - 0.08, b.x1, cy - w), (b.x0, cy + w, b.x1, cy + w + 0.08),
                               (cx - w - 0.08, b.y0, cx - w, b.y1), (cx + w, b.y0, cx + w + 0.08, b.y1)):
            mesh.quad([(x0, y0, 0.006), (x1, y0, 0.006), (x1, y1, 0.006), (x0, y1, 0.006)], (0, 0, 1), GOLD)
        # Ceiling (seen from below) with a warm light panel in the middle.
        mesh.quad([(b.x0, b.y1, H), (b.x1, b.y1, H), (b.x1, b.y0, H), (b.x0, b.y0, H)], (0, 0, -1), CEILING,
                  lit=False)
        s = spec.room_size * 0.28
        mesh.quad([(cx - s, cy + s, H - 0.01), (cx + s, cy + s, H - 0.01), (cx + s, cy - s, H - 0.01),
                   (cx - s, cy - s, H - 0.01)], (0, 0, -1), LIGHT_PANEL, lit=False)
        for wall in walls:
            mesh.box(wall.x0, wall.y0, 0.0, wall.x1, wall.y1, 0.95, WAINSCOT)
            mesh.box(wall.x0, wall.y0, 0.95, wall.x1, wall.y1, 1.02, GOLD)
            mesh.box(wall.x0, wall.y0, 1.02, wall.x1, wall.y1, H - 0.2, WALL)
            mesh.box(wall.x0, wall.y0, H - 0.2, wall.x1, wall.y1, H, GOLD)
        t = spec.wall_thickness / 2
        for door in room.doors:
            half = door.width / 2
            if door.side in ("S", "N"):
                mesh.box(door.x - half, door.y - t, 3.0, door.x + half, door.y + t, H, WALL)
                mesh.box(door.x - half - 0.1, door.y - t - 0.02, 2.9, door.x + half + 0.1, door.y + t + 0.02, 3.0,
                         GOLD)
            else:
                mesh.box(door.x - t, door.y - half, 3.0, door.x + t, door.y + half, H, WALL)
                mesh.box(door.x - t - 0.02, door.y - half - 0.1, 2.9, door.x + t + 0.02, door.y + half + 0.1, 3.0,
                         GOLD)

    def _banner(self, mesh: MeshBuilder, texts, room: Room, side: str) -> None:
        """The room's title on a red banner in the middle of a wall without a door."""
        from .layout import NORMALS, heading_of, wall_point

        spec = self.spec
        wx, wy = wall_point(room.bounds, side, spec.room_size / 2)
        nx, ny = NORMALS[side]
        facing = heading_of(nx, ny)
        cx, cy = wx + nx * spec.wall_thickness / 2, wy + ny * spec.wall_thickness / 2
        mesh.vertical_rect(cx, cy, facing, 3.3, 1.55, 3.15, 0.01, GOLD)
        mesh.vertical_rect(cx, cy, facing, 3.16, 1.62, 3.08, 0.02, (0.70, 0.07, 0.05, 1.0))
        self._text(texts, room.title, cx, cy, facing, 0.03, 2.45, 0.30, 3.0, TITLE_COLOR)
        self._text(texts, "不忘初心 · 牢记使命", cx, cy, facing, 0.03, 1.95, 0.14, 3.0, CAPTION_COLOR)

    def _panel(self, shell: MeshBuilder, pictures: MeshBuilder, texts, p: Placement, exhibit: Exhibit,
               uv: tuple[float, float, float, float]) -> None:
        spec = self.spec
        shell.vertical_rect(p.x, p.y, p.facing, spec.panel_width + 0.1, spec.panel_bottom - 0.05,
                            spec.panel_top + 0.05, -0.01, GOLD)
        shell.vertical_rect(p.x, p.y, p.facing, spec.panel_width, spec.panel_bottom, spec.panel_top, 0.0, BOARD)
        top = spec.panel_top - 0.1
        h = 0.95
        w = h * self.atlas_slot[0] / self.atlas_slot[1]
        shell.vertical_rect(p.x, p.y, p.facing, w + 0.05, top - h - 0.025, top + 0.025, 0.004, GOLD)
        u0, v0, u1, v1 = uv
        pictures.vertical_rect(p.x, p.y, p.facing, w, top - h, top, 0.008, (1, 1, 1, 1),
                               [(u0, v0), (u1, v0), (u1, v1), (u0, v1)], lit=False)
        title_z = top - h - 0.2
        self._text(texts, exhibit.title, p.x, p.y, p.facing, 0.012, title_z, 0.12, spec.panel_width - 0.16,
                   TITLE_COLOR, max_lines=1)
        year = f"{exhibit.year}年　" if exhibit.year and str(exhibit.year) not in exhibit.caption else ""
        caption = (year + exhibit.caption).strip()
        if caption:
            self._text(texts, caption, p.x, p.y, p.facing, 0.012, title_z - 0.2, 0.075, spec.panel_width - 0.2,
                       CAPTION_COLOR, max_lines=4)

    def _pedestal(self, shell: MeshBuilder, texts, p: Placement, exhibit: Exhibit) -> None:
        spec = self.spec
        f = p.footprint
        top = spec.pedestal_height
        shell.box(f.x0, f.y0, 0.0, f.x1, f.y1, 0.12, GOLD)
        shell.box(f.x0 + 0.06, f.y0 + 0.06, 0.12, f.x1 - 0.06, f.y1 - 0.06, top - 0.05, STONE)
        shell.box(f.x0, f.y0, top - 0.05, f.x1, f.y1, top, GOLD)
        # A label lectern in front of the pedestal, towards the viewer.
        d = spec.pedestal_size / 2 * math.sqrt(2) + 0.12
        fx, fy = -math.sin(math.radians(p.facing)), math.cos(math.radians(p.facing))
        lx, ly = p.x + fx * d, p.y + fy * d
        shell.box(lx - 0.03, ly - 0.03, 0.0, lx + 0.03, ly + 0.03, 0.55, GOLD)
        shell.vertical_rect(lx, ly, p.facing, 0.9, 0.55, 0.85, 0.0, BOARD)
        self._text(texts, exhibit.title, lx, ly, p.facing, 0.01, 0.66, 0.09, 0.84, TITLE_COLOR, max_lines=1)

    def _text(self, texts, content: str, x: float, y: float, facing: float, offset: float, z: float,
              height: float, width: float, color, max_lines: int = 2) -> None:
        from panda3d.core import TextNode

        node = TextNode("t")
        node.setFont(self.font)
        node.setAlign(TextNode.ACenter)
        node.setTextColor(*color)
        node.setText(wrap_text(content, width / height, max_lines=max_lines))
        fx, fy = -math.sin(math.radians(facing)), math.cos(math.radians(facing))
        np_ = texts.attachNewNode(node.generate())
        np_.setScale(height)
        np_.setPos(x + fx * offset, y + fy * offset, z)
        np_.setH(facing + 180.0)

    def forget_pictures(self) -> None:
        self._pictures.clear()

    def _picture(self, ref: MediaRef):
        """Decoded, shrunk pictures by hash: a hot reload reuses them."""
        cached = self._pictures.get(ref.sha256)
        if cached is None:
            cached = load_picture(self.resolve(ref), self.atlas_slot)
            if cached is None:
                return None
            if len(self._pictures) > 2000:
                self._pictures.clear()
            self._pictures[ref.sha256] = cached
        return cached

    # -- models -----------------------------------------------------------------
    def _load_model(self, exhibit: Exhibit):
        from panda3d.core import Filename

        if exhibit.model is None:
            return None
        path = self.resolve(exhibit.model)
        if path is None or not Path(path).is_file():
            return None
        path = _with_extension(Path(path), exhibit.model.mime)
        try:
            model = self.loader.loadModel(Filename.fromOsSpecific(str(path)), noCache=True)
        except Exception as exc:  # any loader failure means "show a panel instead"
            log.warning("vrhall: model of %s failed to load: %s", exhibit.id, exc)
            return None
        if model is None or model.isEmpty():
            return None
        bounds = model.getTightBounds()
        if not bounds:
            return None
        return model

    def _fit_model(self, model, p: Placement) -> None:
        """Scale into a 0.95 m cube, centred on the pedestal top and turned to
        face the viewer. The turn happens on a pivot at the pedestal centre,
        so a model whose origin is off-centre still stands in the middle."""
        lo, hi = model.getTightBounds()
        size = max(hi.x - lo.x, hi.y - lo.y, hi.z - lo.z, 1e-6)
        scale = 0.95 / size
        pivot = model.getParent().attachNewNode(f"pivot-{p.exhibit_id}")
        pivot.setPos(p.x, p.y, self.spec.pedestal_height)
        pivot.setH(p.facing)
        model.reparentTo(pivot)
        model.setScale(scale)
        model.setPos(-(lo.x + hi.x) / 2 * scale, -(lo.y + hi.y) / 2 * scale, -lo.z * scale)

    def _light_models(self, models) -> None:
        from panda3d.core import AmbientLight, DirectionalLight

        ambient = AmbientLight("model-ambient")
        ambient.setColor((0.55, 0.5, 0.45, 1))
        key = DirectionalLight("model-key")
        key.setColor((0.8, 0.72, 0.6, 1))
        a = models.attachNewNode(ambient)
        k = models.attachNewNode(key)
        k.setHpr(30, -50, 0)
        models.setLight(a)
        models.setLight(k)


def _atlas_size(size: tuple[int, int], slot: tuple[int, int], count: int) -> tuple[int, int]:
    """Grow the atlas (in powers of two, which every renderer takes) when a
    room holds more pictures than the default size has slots for."""
    w, h = size
    cols = max(1, w // slot[0])
    while (h // slot[1]) * cols < count:
        h *= 2
    return (w, h)


def _walls_by_room(layout: HallLayout) -> dict[int, list[Rect]]:
    out: dict[int, list[Rect]] = {}
    for wall in layout.walls:
        cx, cy = wall.center
        room = None
        for dx, dy in ((0.3, 0.3), (-0.3, -0.3), (0.3, -0.3), (-0.3, 0.3)):
            room = layout.room_at(cx + dx, cy + dy)
            if room is not None:
                break
        out.setdefault(room.index if room else 0, []).append(wall)
    return out


def _with_extension(path: Path, mime: str) -> Path:
    """Cached media are named by hash; Panda3D picks its loader by extension."""
    if path.suffix.lower() in (".glb", ".gltf", ".bam", ".egg"):
        return path
    ext = _MODEL_EXT.get(mime)
    if ext is None:
        return path
    link_dir = Path(tempfile.gettempdir()) / "vrhall-models"
    link_dir.mkdir(exist_ok=True)
    link = link_dir / (path.name + ext)
    if link.is_symlink() and os.path.realpath(link) == os.path.realpath(path):
        return link
    # Name by hash, so the same model is shared; replace a stale or dangling link.
    tmp = link_dir / f".{path.name}.{os.getpid()}{ext}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(path, tmp)
    except OSError:
        tmp.write_bytes(path.read_bytes())
    os.replace(tmp, link)
    return link
