"""Photo inspection: news items need real photos, not thumbnails or files that do not open."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic"})
_FORMATS = ["JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "MPO"]
# Well above any camera (a 100 MP frame is 1e8 px) and below Pillow's own bomb limit.
MAX_PIXELS = 120_000_000


@dataclass(frozen=True)
class Photo:
    name: str
    width: int = 0
    height: int = 0
    format: str = ""
    size: int = 0
    problem: str | None = None  # photo_broken | photo_bomb | photo_unsupported | None


def inspect_photo(name: str, data: bytes) -> Photo:
    """Open, verify and measure; any decoding failure is a verdict, never an exception."""
    if name.lower().endswith(".heic"):
        return Photo(name=name, size=len(data), problem="photo_unsupported")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_FORMATS) as img:
                width, height, fmt = img.width, img.height, img.format or ""
                if width * height > MAX_PIXELS:
                    return Photo(name, width, height, fmt, len(data), "photo_bomb")
                img.verify()
            with Image.open(io.BytesIO(data), formats=_FORMATS) as img:
                img.load()  # verify() misses truncated pixel data
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Photo(name=name, size=len(data), problem="photo_bomb")
    except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError, struct.error ...)
        return Photo(name=name, size=len(data), problem="photo_broken")
    return Photo(name, width, height, fmt, len(data))
