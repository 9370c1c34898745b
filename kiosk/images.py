"""Images for the screens: decoded, downscaled once, cached on disk and in memory.

A lobby screen must never go blank because of one bad file, so every failure
(missing, corrupt, decompression bomb, unknown format) yields a placeholder
card and a log line instead of an exception.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pygame
from PIL import Image, UnidentifiedImageError

log = logging.getLogger(__name__)

# Anything larger than this many pixels is refused (Pillow's bomb guard works
# at about 179 MP; a lobby image never needs more than a few MP).
MAX_SOURCE_PIXELS = 80_000_000

MediaResolver = Callable[[str], Path | None]


class ImageCache:
    def __init__(self, resolve: MediaResolver, cache_dir: Path | None, max_side: int = 1920,
                 memory_items: int = 48) -> None:
        self.resolve = resolve
        self.cache_dir = cache_dir
        self.max_side = max_side
        self._memory: OrderedDict[tuple, pygame.Surface | None] = OrderedDict()
        self._memory_items = memory_items
        self.failures: dict[str, str] = {}
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)

    def clear(self) -> None:
        self._memory.clear()

    def get(self, sha256: str | None, size: tuple[int, int], cover: bool = False) -> pygame.Surface | None:
        """The image scaled to fit (or cover) ``size``; None when unusable."""
        if not sha256:
            return None
        key = (sha256, size, cover)
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        base = self._base(sha256)
        surf = None if base is None else _display_format(_fit(base, size, cover))
        self._memory[key] = surf
        if len(self._memory) > self._memory_items:
            self._memory.popitem(last=False)
        return surf

    def _base(self, sha256: str) -> pygame.Surface | None:
        """The source image downscaled to ``max_side`` once, kept as PNG on disk."""
        key = (sha256, "base")
        if key in self._memory:
            return self._memory[key]
        surf = None
        cached = self.cache_dir / f"{sha256}-{self.max_side}.png" if self.cache_dir else None
        try:
            if cached is not None and cached.is_file():
                surf = pygame.image.load(str(cached))
            else:
                surf = self._decode(sha256, cached)
        except (OSError, pygame.error, UnidentifiedImageError, ValueError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as exc:
            self.failures[sha256] = str(exc)
            log.warning("image %s unusable, showing placeholder: %s", sha256[:12], exc)
            surf = None
        self._memory[key] = surf
        return surf

    def _decode(self, sha256: str, cached: Path | None) -> pygame.Surface | None:
        path = self.resolve(sha256)
        if path is None or not Path(path).is_file():
            raise FileNotFoundError(f"media {sha256[:12]} not in cache")
        with warnings.catch_warnings():
            # Pillow only warns below its hard limit; a warning here means "far too big".
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            if img.width * img.height > MAX_SOURCE_PIXELS:
                raise ValueError(f"image too large ({img.width}x{img.height})")
            img.draft("RGB", (self.max_side, self.max_side))  # cheap JPEG downscale while decoding
            img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
            img.thumbnail((self.max_side, self.max_side), Image.LANCZOS)
            if cached is not None:
                tmp = cached.with_suffix(".tmp")
                img.save(tmp, format="PNG", compress_level=1)
                tmp.replace(cached)
            return pygame.image.frombytes(img.tobytes(), img.size, img.mode)


def _display_format(surf: pygame.Surface) -> pygame.Surface:
    # Blitting a surface in the display's pixel format is several times faster.
    if pygame.display.get_surface() is None:
        return surf
    return surf.convert_alpha() if surf.get_flags() & pygame.SRCALPHA or surf.get_bitsize() == 32 and \
        surf.get_masks()[3] else surf.convert()


def _fit(surf: pygame.Surface, size: tuple[int, int], cover: bool) -> pygame.Surface:
    w, h = surf.get_size()
    tw, th = size
    scale = max(tw / w, th / h) if cover else min(tw / w, th / h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    scaled = pygame.transform.smoothscale(surf, new) if surf.get_bitsize() >= 24 else pygame.transform.scale(surf, new)
    if cover:
        crop = pygame.Rect(0, 0, tw, th)
        crop.center = (new[0] // 2, new[1] // 2)
        scaled = scaled.subsurface(crop.clip(scaled.get_rect())).copy()
    return scaled


def directory_resolver(root: Path) -> MediaResolver:
    """Media named by sha256 in a directory (offline development, tests)."""

    def resolve(sha256: str) -> Path | None:
        path = root / sha256
        return path if path.is_file() else None

    return resolve


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
