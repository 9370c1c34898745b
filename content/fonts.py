"""Where the CJK font comes from: a PyPI package, so nothing is fetched at run
time and no system font is required. Debian's identical file is the fallback."""

from __future__ import annotations

import importlib.resources
from functools import lru_cache
from pathlib import Path

_DEBIAN_FALLBACK = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


class FontMissingError(RuntimeError):
    pass


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """WenQuanYi Micro Hei (.ttc, face 0 is Simplified Chinese)."""
    try:
        path = Path(str(importlib.resources.files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"))
        if path.is_file():
            return path
    except ModuleNotFoundError:
        pass
    if _DEBIAN_FALLBACK.is_file():
        return _DEBIAN_FALLBACK
    raise FontMissingError(
        "没有找到中文字体：请运行 `make demo` 安装 paperang-p2-fonts-cjk，"
        "或 apt-get install fonts-wqy-microhei"
    )
