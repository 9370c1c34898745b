"""Original pictures for the demo, drawn with Pillow when the demo is loaded.

Nothing is copied: every picture is a gradient, a few simple shapes (a
building, a boat, mountains, rays, stars...) and a big Chinese title in the
bundled WenQuanYi font. The same arguments always give the same bytes (no
randomness without a fixed seed, basic text layout, no timestamps in the
files), so republishing the demo changes no hash.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .fonts import cjk_font_path

SIZE = (960, 540)

# top colour, bottom colour, accent (shapes), ink (text)
PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "red": ((196, 16, 36), (120, 6, 18), (255, 209, 64), (255, 246, 220)),
    "gold": ((232, 168, 40), (168, 40, 24), (255, 236, 150), (255, 255, 240)),
    "lake": ((120, 170, 190), (30, 70, 100), (200, 30, 40), (255, 255, 255)),
    "dusk": ((70, 40, 90), (190, 70, 50), (255, 200, 90), (255, 245, 230)),
    "forest": ((60, 110, 80), (20, 50, 40), (220, 190, 90), (245, 250, 235)),
    "snow": ((170, 190, 215), (70, 90, 130), (250, 250, 255), (255, 255, 255)),
    "earth": ((180, 140, 90), (90, 55, 30), (240, 220, 170), (255, 250, 235)),
    "sea": ((40, 120, 180), (10, 40, 90), (250, 210, 90), (255, 255, 255)),
    "warm": ((240, 140, 80), (180, 40, 50), (255, 230, 160), (255, 252, 240)),
}
MOTIFS = ("building", "boat", "rays", "ribbons", "mountains", "bridge", "stars", "book", "city", "fields",
          "hundred", "flag")


@dataclass(frozen=True)
class Picture:
    data: bytes
    mime: str
    width: int
    height: int


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: the same glyph positions with or without libraqm installed.
    return ImageFont.truetype(str(cjk_font_path()), size, index=0, layout_engine=ImageFont.Layout.BASIC)


def _gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)  # 0 at the top, 255 at the bottom
    return Image.composite(Image.new("RGB", size, tuple(bottom)), Image.new("RGB", size, tuple(top)), mask)


def _blend(c1: tuple[int, ...], c2: tuple[int, ...], t: float) -> tuple[int, int, int]:
    return tuple(round(a + (b - a) * t) for a, b in zip(c1, c2))  # type: ignore[return-value]


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill, angle: float = -90.0) -> None:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.382
        a = math.radians(angle + k * 36)
        points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    draw.polygon(points, fill=fill)


# -- motifs: each draws on the right-hand part of the picture ---------------------

def _building(draw, w, h, accent, dark, rng):
    # A two-storey terrace house with an arched stone gate.
    x0, x1, base = int(w * 0.52), int(w * 0.93), int(h * 0.86)
    draw.rectangle([x0, int(h * 0.30), x1, base], fill=_blend(dark, (200, 190, 170), 0.55))
    draw.polygon([(x0 - 20, int(h * 0.30)), ((x0 + x1) // 2, int(h * 0.16)), (x1 + 20, int(h * 0.30))],
                 fill=_blend(dark, (60, 60, 60), 0.5))
    for row in range(2):
        for col in range(4):
            wx = x0 + 24 + col * (x1 - x0 - 48) // 4
            wy = int(h * 0.36) + row * int(h * 0.19)
            draw.rectangle([wx, wy, wx + 44, wy + 56], fill=_blend(accent, (255, 255, 255), 0.3))
            draw.line([wx + 22, wy, wx + 22, wy + 56], fill=dark, width=3)
    gate_x = (x0 + x1) // 2
    draw.rectangle([gate_x - 40, int(h * 0.66), gate_x + 40, base], fill=(70, 40, 30))
    draw.pieslice([gate_x - 40, int(h * 0.61), gate_x + 40, int(h * 0.71)], 180, 360, fill=(70, 40, 30))
    draw.rectangle([0, base, w, h], fill=_blend(dark, (0, 0, 0), 0.4))


def _boat(draw, w, h, accent, dark, rng):
    water = int(h * 0.68)
    draw.rectangle([0, water, w, h], fill=_blend(dark, (20, 60, 90), 0.5))
    for k in range(9):
        y = water + 12 + k * 14
        for x in range(0, w, 60):
            draw.arc([x + (k % 2) * 30, y, x + 50 + (k % 2) * 30, y + 10], 200, 340, fill=(200, 225, 235), width=2)
    hull = [(int(w * 0.54), water - 10), (int(w * 0.96), water - 10), (int(w * 0.90), water + 26),
            (int(w * 0.60), water + 26)]
    draw.polygon(hull, fill=accent)
    draw.rectangle([int(w * 0.62), water - 70, int(w * 0.86), water - 10], fill=_blend(accent, (90, 20, 20), 0.5))
    draw.polygon([(int(w * 0.60), water - 70), (int(w * 0.74), water - 96), (int(w * 0.88), water - 70)],
                 fill=_blend(accent, (60, 10, 10), 0.6))
    for k in range(4):
        x = int(w * 0.65) + k * int(w * 0.05)
        draw.rectangle([x, water - 58, x + 26, water - 30], fill=(250, 230, 190))


def _rays(draw, w, h, accent, dark, rng):
    cx, cy = int(w * 0.74), int(h * 0.95)
    for k in range(18):
        a0 = math.radians(180 + k * 10)
        a1 = math.radians(180 + k * 10 + 5)
        far = w
        draw.polygon([(cx, cy), (cx + far * math.cos(a0), cy + far * math.sin(a0)),
                      (cx + far * math.cos(a1), cy + far * math.sin(a1))], fill=_blend(accent, dark, 0.55))
    draw.ellipse([cx - 110, cy - 110, cx + 110, cy + 110], fill=accent)


def _ribbons(draw, w, h, accent, dark, rng):
    for k in range(5):
        phase = k * 0.9
        points = [(x, h * (0.55 + 0.06 * k) + 40 * math.sin(x / 120 + phase)) for x in range(0, w + 20, 20)]
        draw.line(points, fill=_blend(accent, (255, 255, 255), k / 6), width=14 - 2 * k)


def _mountains(draw, w, h, accent, dark, rng):
    for layer, shade in enumerate((0.25, 0.5, 0.8)):
        base = h * (0.62 + 0.12 * layer)
        points = [(0, h)]
        x = 0
        while x <= w:
            points.append((x, base - rng.randint(40, 150) * (1.2 - 0.3 * layer)))
            x += rng.randint(90, 170)
        points += [(w, base - 60), (w, h)]
        draw.polygon(points, fill=_blend((240, 240, 250), dark, shade))
    _star(draw, w * 0.82, h * 0.2, 34, accent)


def _bridge(draw, w, h, accent, dark, rng):
    water = int(h * 0.8)
    draw.rectangle([0, water, w, h], fill=_blend(dark, (40, 80, 110), 0.5))
    left, right = int(w * 0.45), int(w * 0.98)
    draw.rectangle([left - 30, int(h * 0.35), left, water], fill=(90, 80, 70))
    draw.rectangle([right - 30, int(h * 0.35), right, water], fill=(90, 80, 70))
    for k in range(5):
        sag = 40 + k * 6
        y = int(h * 0.42) + k * 10
        draw.arc([left, y - sag, right - 30, y + sag], 0, 180, fill=(40, 40, 40), width=4)


def _stars(draw, w, h, accent, dark, rng):
    _star(draw, w * 0.70, h * 0.42, 110, accent)
    for k, (dx, dy) in enumerate(((0.86, 0.20), (0.92, 0.36), (0.92, 0.56), (0.86, 0.72))):
        _star(draw, w * dx, h * dy, 36, accent, angle=-90 + 20 * (k - 1.5))


def _book(draw, w, h, accent, dark, rng):
    cx, top, bottom = int(w * 0.72), int(h * 0.25), int(h * 0.82)
    draw.polygon([(cx, top + 20), (cx - 200, top), (cx - 200, bottom), (cx, bottom + 20)], fill=(250, 244, 228))
    draw.polygon([(cx, top + 20), (cx + 200, top), (cx + 200, bottom), (cx, bottom + 20)], fill=(242, 234, 214))
    for k in range(9):
        y = top + 40 + k * 30
        draw.line([cx - 180, y, cx - 24, y + 16], fill=(170, 150, 120), width=3)
        draw.line([cx + 24, y + 16, cx + 180, y], fill=(170, 150, 120), width=3)
    draw.line([cx, top + 20, cx, bottom + 20], fill=accent, width=4)


def _city(draw, w, h, accent, dark, rng):
    base = int(h * 0.88)
    x = int(w * 0.42)
    while x < w:
        bw, bh = rng.randint(40, 90), rng.randint(120, 380)
        draw.rectangle([x, base - bh, x + bw, base], fill=_blend(dark, (30, 30, 50), rng.random() * 0.5))
        for wy in range(base - bh + 12, base - 10, 22):
            for wx in range(x + 8, x + bw - 8, 16):
                if rng.random() < 0.55:
                    draw.rectangle([wx, wy, wx + 7, wy + 10], fill=accent)
        x += bw + rng.randint(4, 14)
    draw.rectangle([0, base, w, h], fill=_blend(dark, (0, 0, 0), 0.5))


def _fields(draw, w, h, accent, dark, rng):
    horizon = int(h * 0.55)
    for k in range(12):
        y0 = horizon + k * k * 2.2
        draw.polygon([(0, y0), (w, y0 - 20), (w, y0 + 4 + k * 3), (0, y0 + 14 + k * 4)],
                     fill=_blend(accent, (90, 140, 40), (k % 2) * 0.6))
    draw.ellipse([int(w * 0.70), int(h * 0.16), int(w * 0.84), int(h * 0.16) + int(w * 0.14)], fill=accent)


def _hundred(draw, w, h, accent, dark, rng):
    font = _font(int(h * 0.42))
    draw.text((w - 24 - draw.textlength("100", font=font), int(h * 0.12)), "100", font=font, fill=accent)
    for k in range(7):
        _star(draw, w * (0.52 + 0.065 * k), h * 0.86, 18, accent)


def _flag(draw, w, h, accent, dark, rng):
    pole = int(w * 0.56)
    draw.rectangle([pole, int(h * 0.12), pole + 10, h], fill=(220, 220, 220))
    cloth = []
    for k in range(0, 31):
        x = pole + 10 + k * 10
        cloth.append((x, int(h * 0.14) + 14 * math.sin(k / 5)))
    bottom = [(x, y + 200) for x, y in reversed(cloth)]
    draw.polygon(cloth + bottom, fill=(214, 20, 30))
    _star(draw, pole + 80, int(h * 0.14) + 70, 36, accent)


_DRAW = {"building": _building, "boat": _boat, "rays": _rays, "ribbons": _ribbons, "mountains": _mountains,
         "bridge": _bridge, "stars": _stars, "book": _book, "city": _city, "fields": _fields,
         "hundred": _hundred, "flag": _flag}


def _fit_font(draw: ImageDraw.ImageDraw, text: str, max_width: int, start: int, smallest: int) -> ImageFont.FreeTypeFont:
    size = start
    while size > smallest and draw.textlength(text, font=_font(size)) > max_width:
        size -= 4
    return _font(size)


_NO_LINE_START = set("，。、；：！？）》”’」』·…")
_NO_LINE_END = set("（《“‘「『")


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy wrap by character (Chinese has no spaces), the fallback for long titles."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > max_width and line and char not in _NO_LINE_START:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


def _two_lines(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
               max_width: int) -> list[str] | None:
    """The title in one line, or split into two lines of nearly equal width
    (never a closing mark at a line start or an opening mark at a line end);
    None when it does not fit."""
    if draw.textlength(text, font=font) <= max_width:
        return [text]
    best: tuple[float, int] | None = None
    for cut in range(1, len(text)):
        if text[cut] in _NO_LINE_START or text[cut - 1] in _NO_LINE_END:
            continue
        widest = max(draw.textlength(text[:cut], font=font), draw.textlength(text[cut:], font=font))
        if widest <= max_width and (best is None or widest < best[0]):
            best = (widest, cut)
    return None if best is None else [text[:best[1]], text[best[1]:]]


def _layout_title(draw: ImageDraw.ImageDraw, title: str, lines: tuple[str, ...] | None,
                  width: int) -> tuple[list[str], ImageFont.FreeTypeFont]:
    """Lines and font of a title: given breaks at the largest size that fits;
    else one big line if it fits, else two balanced lines, else a greedy wrap."""
    if lines:
        for font_size in range(84, 27, -4):
            font = _font(font_size)
            if all(draw.textlength(line, font=font) <= width for line in lines):
                return list(lines), font
        return list(lines), font
    for font_size in range(84, 67, -4):
        font = _font(font_size)
        if draw.textlength(title, font=font) <= width:
            return [title], font
    for font_size in range(84, 35, -4):
        font = _font(font_size)
        found = _two_lines(draw, title, font, width)
        if found is not None:
            return found, font
    return _wrap(draw, title, font, width)[:3], font


def _encode(image: Image.Image, fmt: str) -> Picture:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=86)
        mime = "image/jpeg"
    else:
        image.save(buffer, "PNG", optimize=False, compress_level=6)
        mime = "image/png"
    return Picture(buffer.getvalue(), mime, image.width, image.height)


@lru_cache(maxsize=128)
def poster(title: str, subtitle: str = "", *, motif: str = "rays", palette: str = "red",
           size: tuple[int, int] = SIZE, seed: int = 0, fmt: str = "JPEG",
           lines: tuple[str, ...] | None = None) -> Picture:
    """A title card: gradient, a motif on the right, the title on the left.
    ``lines`` optionally gives the title's line breaks (at word boundaries)."""
    if motif not in _DRAW:
        raise ValueError(f"unknown motif {motif!r}; known: {', '.join(MOTIFS)}")
    top, bottom, accent, ink = PALETTES.get(palette, PALETTES["red"])
    w, h = size
    rng = random.Random(f"{seed}:{title}:{motif}")
    image = _gradient(size, top, bottom)
    draw = ImageDraw.Draw(image)
    _DRAW[motif](draw, w, h, accent, bottom, rng)
    # A soft dark band behind the text keeps it readable on any motif.
    # (Blurred at a quarter of the size: same look, a sixteenth of the work.)
    small = (w // 4, h // 4)
    shade = Image.new("L", small, 0)
    ImageDraw.Draw(shade).rectangle([0, small[1] * 0.18, small[0] * 0.62, small[1] * 0.82], fill=120)
    shade = shade.filter(ImageFilter.GaussianBlur(7)).resize(size, Image.Resampling.BILINEAR)
    image.paste((0, 0, 0), (0, 0), shade)
    draw = ImageDraw.Draw(image)
    lines, font = _layout_title(draw, title, lines, int(w * 0.50))
    line_h = font.size + 14
    y = int(h * 0.5) - (len(lines) * line_h) // 2 - (24 if subtitle else 0)
    for line in lines:
        draw.text((int(w * 0.06) + 3, y + 3), line, font=font, fill=(40, 0, 0))
        draw.text((int(w * 0.06), y), line, font=font, fill=ink)
        y += line_h
    if subtitle:
        draw.line([int(w * 0.06), y + 8, int(w * 0.06) + 120, y + 8], fill=accent, width=4)
        draw.text((int(w * 0.06), y + 22), subtitle, font=_fit_font(draw, subtitle, int(w * 0.52), 34, 20), fill=ink)
    return _encode(image, fmt)


@dataclass(frozen=True)
class MapMarker:
    label: str
    lat: float
    lon: float
    primary: bool = False


def project(lat: float, lon: float, bounds: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, float]:
    """Pixel position of a coordinate on a map image whose edges are ``bounds``
    (lat_min, lat_max, lon_min, lon_max): the same linear mapping the kiosk uses."""
    lat_min, lat_max, lon_min, lon_max = bounds
    w, h = size
    return (lon - lon_min) / (lon_max - lon_min) * w, (lat_max - lat) / (lat_max - lat_min) * h


@lru_cache(maxsize=8)
def district_map(markers: tuple[MapMarker, ...], bounds: tuple[float, float, float, float],
                 size: tuple[int, int] = (1280, 960), title: str = "红星街道党组织分布示意图") -> Picture:
    """A schematic street map (not a survey): streets, a river and a park,
    with every branch drawn where its coordinates fall inside ``bounds``."""
    w, h = size
    rng = random.Random("district-map")
    image = Image.new("RGB", size, (246, 241, 230))
    draw = ImageDraw.Draw(image)
    # Blocks between a grid of streets.
    xs = sorted({0, w, *(rng.randint(60, w - 60) for _ in range(7))})
    ys = sorted({0, h, *(rng.randint(60, h - 60) for _ in range(6))})
    for x0, x1 in zip(xs, xs[1:]):
        for y0, y1 in zip(ys, ys[1:]):
            if x1 - x0 > 30 and y1 - y0 > 30:
                draw.rectangle([x0 + 9, y0 + 9, x1 - 9, y1 - 9], fill=(232, 226, 212))
    # A river along the east side.
    river = [(w * 0.80 + 50 * math.sin(y / 140), y) for y in range(0, h + 20, 20)]
    draw.line(river, fill=(150, 196, 226), width=46)
    draw.text((int(w * 0.83), int(h * 0.06)), "滨江", font=_font(28), fill=(60, 110, 150))
    for x in xs[1:-1]:
        draw.line([x, 0, x, h], fill=(255, 255, 255), width=12)
    for y in ys[1:-1]:
        draw.line([0, y, w, y], fill=(255, 255, 255), width=12)
    draw.text((xs[1] + 14, ys[2] - 40), "红星路", font=_font(24), fill=(150, 140, 120))
    park = (int(w * 0.12), int(h * 0.55), int(w * 0.30), int(h * 0.78))
    draw.rounded_rectangle(park, radius=30, fill=(196, 224, 180))
    draw.text((park[0] + 20, park[1] + 20), "人民公园", font=_font(26), fill=(70, 110, 60))
    for marker in markers:
        x, y = project(marker.lat, marker.lon, bounds, size)
        radius = 18 if marker.primary else 13
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(200, 16, 36), outline=(255, 255, 255),
                     width=3)
        _star(draw, x, y, radius * 0.6, (255, 214, 64))
        font = _font(26 if marker.primary else 22)
        tw = draw.textlength(marker.label, font=font)
        tx = min(max(8, x - tw / 2), w - tw - 8)
        ty = y + radius + 6 if y < h - 60 else y - radius - 34
        draw.rounded_rectangle([tx - 6, ty - 2, tx + tw + 6, ty + font.size + 6], radius=6, fill=(255, 255, 255))
        draw.text((tx, ty), marker.label, font=font, fill=(140, 10, 20))
    draw.rectangle([0, 0, w, 64], fill=(196, 16, 36))
    draw.text((24, 12), title, font=_font(36), fill=(255, 246, 220))
    draw.text((w - 240, h - 40), "示意图 · 非测绘地图", font=_font(22), fill=(140, 130, 110))
    return _encode(image, "PNG")
