"""Photos as a phone or camera would produce them: JPEG (or an iPhone's HEIC) with real-looking detail."""

from __future__ import annotations

import io
import random

import pillow_heif
from PIL import Image, ImageDraw


def make_photo(width: int = 1600, height: int = 1200, *, seed: int = 0, fmt: str = "JPEG") -> bytes:
    """A scene of random shapes: compresses like a photo, not like a flat test card."""
    if fmt == "HEIF":
        return make_heic(width, height, seed=seed)
    out = io.BytesIO()
    img = _scene(width, height, seed)
    img.save(out, fmt, quality=85) if fmt == "JPEG" else img.save(out, fmt)
    return out.getvalue()


def make_heic(width: int = 1600, height: int = 1200, *, seed: int = 0, quality: int = 50) -> bytes:
    """A HEIC photo as an iPhone's default "高效" setting saves it (HEVC in a HEIF container).

    Encoding is slow (about 0.5 s for 2 MP with x265): tests keep these small and few.
    """
    out = io.BytesIO()
    pillow_heif.from_pillow(_scene(width, height, seed)).save(out, format="HEIF", quality=quality)
    return out.getvalue()


def _scene(width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(20, max(21, width // 3)), rng.randrange(20, max(21, height // 3))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + w, y + h), fill=colour)
        draw.ellipse((x - w // 2, y - h // 2, x + w // 2, y + h // 2), outline=colour, width=3)
    return img
