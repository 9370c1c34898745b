"""The 2D layer over the hall: the exhibit's detail card, subtitles, the
minimap with "you are here", on-screen tour buttons and the fade used for far
jumps. A component in the simplepbr manner: it takes the nodes it draws on
(``aspect2d``, ``render2d``) and the font, never a global ShowBase."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from content.model import Exhibit

from .captions import wrap_text
from .geometry import Pose
from .layout import HallLayout
from .mesh import MeshBuilder

GOLD = (0.86, 0.66, 0.28, 1)
CARD_WRAP = 16      # characters per line of the detail card
CARD_SCALE = 0.05
SUBTITLE_COLUMNS = {"screen": 44, "stereo": 22}


@dataclass
class Overlay:
    aspect2d: object
    render2d: object
    font: object
    aspect: float = 16 / 9
    card: object = None
    subtitle: object = None
    fade: object = None
    minimap: object = None
    marker: object = None
    here: object = None
    buttons: list = field(default_factory=list)
    # What was asked to be shown, before the hall's own line breaks.
    _card_text: str = ""
    _subtitle_text: str = ""
    _subtitle_columns: int = SUBTITLE_COLUMNS["screen"]
    _map_scale: float = 1.0
    _map_origin: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        from panda3d.core import CardMaker, TextNode, TransparencyAttrib

        maker = CardMaker("fade")
        maker.setFrame(-1, 1, -1, 1)
        maker.setColor(0, 0, 0, 1)
        self.fade = self.render2d.attachNewNode(maker.generate())
        self.fade.setTransparency(TransparencyAttrib.MAlpha)
        self.fade.setBin("fixed", 100)
        self.fade.hide()

        card = TextNode("detail-card")
        card.setFont(self.font)
        card.setTextColor(0.98, 0.93, 0.82, 1)
        card.setCardColor(0.32, 0.03, 0.02, 0.88)
        card.setCardAsMargin(0.6, 0.6, 0.5, 0.5)
        card.setFrameColor(*GOLD)
        card.setFrameAsMargin(0.6, 0.6, 0.5, 0.5)
        card.setCardDecal(True)
        self.card = self.aspect2d.attachNewNode(card)
        self.card.setScale(CARD_SCALE)
        # Keep the card inside the right edge whatever the window's shape.
        self.card.setPos(self.aspect - 0.08 - CARD_WRAP * CARD_SCALE, 0, 0.78)
        self.card.hide()

        sub = TextNode("subtitle")
        sub.setFont(self.font)
        sub.setAlign(TextNode.ACenter)
        sub.setTextColor(1, 1, 1, 1)
        sub.setShadow(0.05, 0.05)
        sub.setShadowColor(0, 0, 0, 1)
        sub.setCardColor(0, 0, 0, 0.55)
        sub.setCardAsMargin(0.6, 0.6, 0.3, 0.3)
        sub.setCardDecal(True)
        self.subtitle = self.aspect2d.attachNewNode(sub)
        self.subtitle.setScale(0.06)
        self.subtitle.setPos(0, 0, -0.76)

    # -- detail card and subtitles ------------------------------------------------
    def show_card(self, exhibit: Exhibit) -> None:
        lines = [exhibit.title]
        where = [x for x in (exhibit.section or "", f"{exhibit.year}年" if exhibit.year else "") if x]
        if where:
            lines.append(" · ".join(where))
        if exhibit.caption:
            lines += ["", exhibit.caption[:160]]
        self._card_text = "\n".join(lines)
        self.card.node().setText(wrap_text(self._card_text, CARD_WRAP))
        self.card.show()

    def hide_card(self) -> None:
        self.card.hide()
        self.set_subtitle("")

    def card_text(self) -> str:
        return self._card_text if not self.card.isHidden() else ""

    def set_subtitle(self, text: str, *, force: bool = False) -> None:
        if text != self._subtitle_text or force:
            self._subtitle_text = text
            self.subtitle.node().setText(wrap_text(text, self._subtitle_columns, max_lines=3))

    def subtitle_text(self) -> str:
        return self._subtitle_text

    def set_fade(self, alpha: float) -> None:
        if alpha <= 0.0:
            self.fade.hide()
            return
        self.fade.show()
        self.fade.setColorScale(1, 1, 1, alpha)

    # -- minimap --------------------------------------------------------------------
    def draw_minimap(self, layout: HallLayout) -> None:
        from panda3d.core import TextNode, TransparencyAttrib

        if self.minimap is not None:
            self.minimap.removeNode()
        b = layout.bounds
        scale = 0.5 / max(b.x1 - b.x0, b.y1 - b.y0)
        root = self.aspect2d.attachNewNode("minimap")
        root.setPos(-self.aspect + 0.06, 0, 0.86 - (b.y1 - b.y0) * scale)
        self.minimap, self._map_scale, self._map_origin = root, scale, (b.x0, b.y0)
        mesh = MeshBuilder("minimap")

        def rect(x0, y0, x1, y1, color):
            # aspect2d is the x/z plane: the map's y goes up the screen.
            mesh.quad([(x0, 0, y0), (x1, 0, y0), (x1, 0, y1), (x0, 0, y1)], (0, -1, 0), color, lit=False)

        w, h = (b.x1 - b.x0) * scale, (b.y1 - b.y0) * scale
        rect(-0.02, -0.02, w + 0.02, h + 0.02, (0.86, 0.66, 0.28, 0.9))
        rect(0, 0, w, h, (0.15, 0.05, 0.04, 0.85))
        for room in layout.rooms:
            r = room.bounds
            rect((r.x0 - b.x0) * scale + 0.004, (r.y0 - b.y0) * scale + 0.004,
                 (r.x1 - b.x0) * scale - 0.004, (r.y1 - b.y0) * scale - 0.004, (0.55, 0.1, 0.07, 0.95))
            for door in room.doors:
                dx, dy = (door.x - b.x0) * scale, (door.y - b.y0) * scale
                rect(dx - 0.008, dy - 0.008, dx + 0.008, dy + 0.008, (0.95, 0.85, 0.6, 1))
        root.attachNewNode(mesh.node())
        root.setTransparency(TransparencyAttrib.MAlpha)
        label = TextNode("minimap-label")
        label.setFont(self.font)
        label.setText("展厅平面图")
        label.setTextColor(0.98, 0.84, 0.5, 1)
        lab = root.attachNewNode(label)
        lab.setScale(0.035)
        lab.setPos(0, 0, h + 0.03)
        marker = MeshBuilder("you-are-here")
        marker.quad([(-0.012, 0, -0.012), (0.012, 0, -0.012), (0.012, 0, 0.012), (-0.012, 0, 0.012)],
                    (0, -1, 0), (1.0, 0.85, 0.1, 1), lit=False)
        marker.quad([(-0.004, 0, 0.0), (0.004, 0, 0.0), (0.004, 0, 0.04), (-0.004, 0, 0.04)],
                    (0, -1, 0), (1.0, 0.85, 0.1, 1), lit=False)
        self.marker = root.attachNewNode(marker.node())
        here = TextNode("you-are-here-label")
        here.setFont(self.font)
        here.setText("您在这里")
        here.setTextColor(1.0, 0.9, 0.4, 1)
        self.here = root.attachNewNode(here)
        self.here.setScale(0.03)

    def place_marker(self, pose: Pose) -> None:
        if self.marker is None:
            return
        ox, oy = self._map_origin
        x, y = (pose.x - ox) * self._map_scale, (pose.y - oy) * self._map_scale
        self.marker.setPos(x, 0, y)
        self.marker.setR(-pose.h)
        self.here.setPos(x + 0.02, 0, y + 0.02)

    def marker_position(self) -> tuple[float, float]:
        p = self.marker.getPos()
        return (p.x, p.z)

    # -- on-screen controls -----------------------------------------------------------
    def add_controls(self, command: Callable[[str], None]) -> None:
        """Tour buttons for touch tables and mice."""
        from direct.gui.DirectGui import DirectButton

        labels = (("导览", "tour"), ("暂停/继续", "toggle"), ("下一站", "skip"), ("停止", "stop"))
        for i, (label, verb) in enumerate(labels):
            self.buttons.append(DirectButton(
                text=label, text_font=self.font, scale=0.05, pad=(0.4, 0.25), text_fg=(0.98, 0.86, 0.55, 1),
                frameColor=(0.45, 0.05, 0.04, 0.9), relief=1, command=command, extraArgs=[verb],
                pos=(self.aspect - 0.95 + i * 0.24, 0, -0.93), parent=self.aspect2d))

    def add_joystick(self, radius: float = 0.18) -> tuple[tuple[float, float], float]:
        """A stick at the bottom left; returns its centre (aspect2d units) and radius."""
        import math

        center = (-self.aspect + 0.3, -0.62)
        mesh = MeshBuilder("joystick")
        for r, color in ((radius, (0.86, 0.66, 0.28, 0.75)), (radius - 0.012, (0.25, 0.04, 0.03, 0.6))):
            for i in range(32):
                a, b = 2 * math.pi * i / 32, 2 * math.pi * (i + 1) / 32
                mesh.quad([(0, 0, 0), (r * math.cos(a), 0, r * math.sin(a)), (r * math.cos(b), 0, r * math.sin(b)),
                           (0, 0, 0)], (0, -1, 0), color, lit=False)
        knob = MeshBuilder("joystick-knob")
        for i in range(24):
            a, b = 2 * math.pi * i / 24, 2 * math.pi * (i + 1) / 24
            k = radius * 0.38
            knob.quad([(0, 0, 0), (k * math.cos(a), 0, k * math.sin(a)), (k * math.cos(b), 0, k * math.sin(b)),
                       (0, 0, 0)], (0, -1, 0), (0.98, 0.84, 0.5, 0.9), lit=False)
        from panda3d.core import TransparencyAttrib

        self.stick = self.aspect2d.attachNewNode(mesh.node())
        self.stick.setPos(center[0], 0, center[1])
        self.stick.setTransparency(TransparencyAttrib.MAlpha)
        self.knob = self.stick.attachNewNode(knob.node())
        self.knob.setY(-0.01)
        self.buttons.append(self.stick)  # hidden with the buttons in stereo
        return center, radius

    def move_knob(self, offset: tuple[float, float]) -> None:
        if getattr(self, "knob", None) is not None:
            self.knob.setPos(offset[0], -0.01, offset[1])

    # -- stereo ---------------------------------------------------------------------
    def to_view(self, camera) -> None:
        """In stereo the screen-space layer would straddle both eyes: hang the
        card and subtitles in front of the visitor instead (both eyes see
        them, at a comfortable depth) and put the screen-only things away."""
        for node, pos, scale in ((self.card, (-0.55, 2.2, 1.0), 0.075), (self.subtitle, (0, 2.0, -0.8), 0.09)):
            node.reparentTo(camera)
            node.setPos(*pos)
            node.setScale(scale)
            node.setBin("fixed", 60)
            node.setDepthTest(False)
            node.setDepthWrite(False)
        self._subtitle_columns = SUBTITLE_COLUMNS["stereo"]
        self.set_subtitle(self._subtitle_text, force=True)
        for node in [self.minimap, *self.buttons]:
            if node is not None:
                node.hide()

    def to_screen(self) -> None:
        self.card.reparentTo(self.aspect2d)
        self.card.setScale(CARD_SCALE)
        self.card.setPos(self.aspect - 0.08 - CARD_WRAP * CARD_SCALE, 0, 0.78)
        self.subtitle.reparentTo(self.aspect2d)
        self.subtitle.setScale(0.06)
        self.subtitle.setPos(0, 0, -0.76)
        self._subtitle_columns = SUBTITLE_COLUMNS["screen"]
        self.set_subtitle(self._subtitle_text, force=True)
        for node in (self.card, self.subtitle):
            node.clearBin()
            node.clearDepthTest()
            node.clearDepthWrite()
        for node in [self.minimap, *self.buttons]:
            if node is not None:
                node.show()

    def destroy(self) -> None:
        for button in self.buttons:
            if hasattr(button, "destroy"):
                button.destroy()
            else:
                button.removeNode()
        self.buttons = []
        for node in (self.card, self.subtitle, self.fade, self.minimap):
            if node is not None:
                node.removeNode()
