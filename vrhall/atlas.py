"""Exhibit images packed into one texture per room (PIL, no Panda3D), so a
room's pictures are one draw call. A missing or unreadable image becomes a
dignified placeholder card carrying the exhibit's title."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw, ImageFont, ImageOps

log = logging.getLogger(__name__)

RED = (150, 18, 16)
DARK_RED = (96, 10, 8)
GOLD = (222, 176, 84)
CREAM = (246, 236, 214)


@dataclass
class Atlas:
    """A grid of equal slots; ``uv(i)`` gives the slot's texture rectangle."""

    size: tuple[int, int] = (1024, 1024)
    slot: tuple[int, int] = (256, 192)
    image: Image.Image = field(init=False)
    used: int = 0

    def __post_init__(self) -> None:
        self.image = Image.new("RGB", self.size, DARK_RED)

    @property
    def capacity(self) -> int:
        return (self.size[0] // self.slot[0]) * (self.size[1] // self.slot[1])

    def add(self, picture: Image.Image) -> int:
        if self.used >= self.capacity:
            raise ValueError("atlas full")
        index = self.used
        cols = self.size[0] // self.slot[0]
        col, row = index % cols, index // cols
        # Inset by one pixel so bilinear filtering never bleeds a neighbour in.
        w, h = self.slot[0] - 2, self.slot[1] - 2
        picture = picture.convert("RGB")
        if picture.width > w or picture.height > h:
            picture = ImageOps.contain(picture, (w, h), method=Image.Resampling.BILINEAR)
        # Centre it; the slot's background is the board's dark red.
        self.image.paste(picture, (col * self.slot[0] + 1 + (w - picture.width) // 2,
                                   row * self.slot[1] + 1 + (h - picture.height) // 2))
        self.used += 1
        return index

    def uv(self, index: int) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1) with v up, as Panda3D expects."""
        cols = self.size[0] // self.slot[0]
        col, row = index % cols, index // cols
        W, H = self.size
        x0, y0 = col * self.slot[0] + 1.5, row * self.slot[1] + 1.5
        x1, y1 = (col + 1) * self.slot[0] - 1.5, (row + 1) * self.slot[1] - 1.5
        return (x0 / W, 1 - y1 / H, x1 / W, 1 - y0 / H)


def placeholder(title: str, size: tuple[int, int], font_path: Path | None) -> Image.Image:
    """Red card, gold frame, the title in the middle."""
    img = Image.new("RGB", size, RED)
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([4, 4, w - 5, h - 5], outline=GOLD, width=3)
    draw.rectangle([10, 10, w - 11, h - 11], outline=GOLD, width=1)
    text = title if len(title) <= 10 else title[:9] + "…"
    try:
        font = ImageFont.truetype(str(font_path), max(14, min(34, int(w * 0.85 / max(1, len(text)))))) \
            if font_path else ImageFont.load_default()
    except OSError:
        font = ImageFont.load_default()
    box = draw.textbbox((0, 0), text, font=font)
    draw.text(((w - (box[2] - box[0])) / 2, (h - (box[3] - box[1])) / 2 - box[1]), text, fill=GOLD, font=font)
    # A small star above the title: the card reads as deliberate, not broken.
    cx, cy, r = w / 2, h * 0.22, h * 0.08
    import math
    pts = [(cx + (r if i % 2 == 0 else r * 0.4) * math.sin(i * math.pi / 5),
            cy - (r if i % 2 == 0 else r * 0.4) * math.cos(i * math.pi / 5)) for i in range(10)]
    draw.polygon(pts, fill=GOLD)
    return img


def load_picture(path: Path | None, fit: tuple[int, int] | None = None) -> Image.Image | None:
    """Read an image, already shrunk to about ``fit``: JPEGs decode at a
    reduced DCT scale (``draft``), which is most of the build time saved."""
    if path is None:
        return None
    try:
        with Image.open(path) as img:
            if fit is not None:
                img.draft("RGB", fit)
            img.load()
            img = img.convert("RGB")
            if fit is not None:
                img.thumbnail((fit[0] - 2, fit[1] - 2), Image.Resampling.BILINEAR, reducing_gap=2.0)
            return img
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("vrhall: cannot read image %s: %s", path, exc)
        return None


def to_panda_texture(atlas: Atlas, name: str):  # -> panda3d.core.Texture
    from panda3d.core import SamplerState, Texture

    tex = Texture(name)
    w, h = atlas.image.size
    tex.setup2dTexture(w, h, Texture.T_unsigned_byte, Texture.F_rgb)
    # Panda3D stores rows bottom-up and in BGR order; PIL packs that directly.
    tex.setRamImage(atlas.image.transpose(Image.Transpose.FLIP_TOP_BOTTOM).tobytes("raw", "BGR"))
    tex.setMinfilter(SamplerState.FT_linear_mipmap_linear)
    tex.setMagfilter(SamplerState.FT_linear)
    tex.setWrapU(SamplerState.WM_clamp)
    tex.setWrapV(SamplerState.WM_clamp)
    return tex


PictureSource = Callable[[str], "Image.Image | None"]
