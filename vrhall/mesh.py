"""Accumulate many quads into one Geom, so a room's static geometry is a few
draw calls from the start instead of thousands of nodes flattened later."""

from __future__ import annotations

import math
from typing import Sequence

from panda3d.core import Geom, GeomNode, GeomTriangles, GeomVertexData, GeomVertexFormat, GeomVertexWriter

Vec3 = tuple[float, float, float]
Color = tuple[float, float, float, float]

# Light baked into vertex colours: a warm key light from above-front and a
# soft ambient term. Baked light costs nothing per frame in the software path.
_KEY = (0.35, -0.45, 0.82)
_AMBIENT = 0.74
_WARM = (1.0, 0.95, 0.86)


def shade(color: Color, normal: Vec3) -> Color:
    lambert = max(0.0, sum(a * b for a, b in zip(normal, _KEY)))
    k = _AMBIENT + 0.3 * lambert
    return (min(1.0, color[0] * k * _WARM[0]), min(1.0, color[1] * k * _WARM[1]),
            min(1.0, color[2] * k * _WARM[2]), color[3])


class MeshBuilder:
    def __init__(self, name: str, textured: bool = False) -> None:
        fmt = GeomVertexFormat.getV3n3c4t2() if textured else GeomVertexFormat.getV3n3c4()
        self.vdata = GeomVertexData(name, fmt, Geom.UHStatic)
        self.textured = textured
        self.name = name
        self._v = GeomVertexWriter(self.vdata, "vertex")
        self._n = GeomVertexWriter(self.vdata, "normal")
        self._c = GeomVertexWriter(self.vdata, "color")
        self._t = GeomVertexWriter(self.vdata, "texcoord") if textured else None
        self.tris = GeomTriangles(Geom.UHStatic)
        self.count = 0

    def quad(self, corners: Sequence[Vec3], normal: Vec3, colors: Color | Sequence[Color],
             uvs: Sequence[tuple[float, float]] | None = None, lit: bool = True) -> None:
        """Corners counter-clockwise seen from the front (the side ``normal`` points to)."""
        if isinstance(colors[0], (int, float)):
            colors = [colors] * 4  # type: ignore[list-item]
        for i, corner in enumerate(corners):
            self._v.addData3(*corner)
            self._n.addData3(*normal)
            self._c.addData4(*(shade(colors[i], normal) if lit else colors[i]))  # type: ignore[arg-type]
            if self._t is not None:
                self._t.addData2(*(uvs[i] if uvs else (0.0, 0.0)))
        base = self.count
        self.tris.addVertices(base, base + 1, base + 2)
        self.tris.addVertices(base, base + 2, base + 3)
        self.count += 4

    def box(self, x0: float, y0: float, z0: float, x1: float, y1: float, z1: float,
            color: Color, top: Color | None = None, bottom: bool = False) -> None:
        top = top or color
        self.quad([(x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)], (0, 0, 1), top)
        self.quad([(x0, y0, z0), (x1, y0, z0), (x1, y0, z1), (x0, y0, z1)], (0, -1, 0), color)
        self.quad([(x1, y1, z0), (x0, y1, z0), (x0, y1, z1), (x1, y1, z1)], (0, 1, 0), color)
        self.quad([(x0, y1, z0), (x0, y0, z0), (x0, y0, z1), (x0, y1, z1)], (-1, 0, 0), color)
        self.quad([(x1, y0, z0), (x1, y1, z0), (x1, y1, z1), (x1, y0, z1)], (1, 0, 0), color)
        if bottom:
            self.quad([(x0, y1, z0), (x1, y1, z0), (x1, y0, z0), (x0, y0, z0)], (0, 0, -1), color)

    def vertical_rect(self, cx: float, cy: float, facing: float, width: float, z0: float, z1: float,
                      offset: float, color: Color | Sequence[Color],
                      uvs: Sequence[tuple[float, float]] | None = None, lit: bool = True) -> None:
        """A rectangle standing upright, centred on (cx, cy) pushed ``offset``
        along its facing heading, visible from the front."""
        fx, fy = -math.sin(math.radians(facing)), math.cos(math.radians(facing))
        rx, ry = -fy, fx  # the viewer's right when they look at the front
        hx, hy = cx + fx * offset, cy + fy * offset
        w = width / 2
        left = (hx - rx * w, hy - ry * w)
        right = (hx + rx * w, hy + ry * w)
        # Counter-clockwise seen from the front; uvs go (0,0) bottom-left to (1,1) top-right.
        corners = [(left[0], left[1], z0), (right[0], right[1], z0), (right[0], right[1], z1), (left[0], left[1], z1)]
        self.quad(corners, (fx, fy, 0.0), color, uvs, lit)

    def node(self) -> GeomNode:
        geom = Geom(self.vdata)
        geom.addPrimitive(self.tris)
        node = GeomNode(self.name)
        if self.count:
            node.addGeom(geom)
        return node
