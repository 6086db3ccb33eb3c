"""Photos as a phone or camera would produce them: JPEG with real-looking detail."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def make_photo(width: int = 1600, height: int = 1200, *, seed: int = 0, fmt: str = "JPEG") -> bytes:
    """A scene of random shapes: compresses like a photo, not like a flat test card."""
    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(20, max(21, width // 3)), rng.randrange(20, max(21, height // 3))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + w, y + h), fill=colour)
        draw.ellipse((x - w // 2, y - h // 2, x + w // 2, y + h // 2), outline=colour, width=3)
    out = io.BytesIO()
    img.save(out, fmt, quality=85) if fmt == "JPEG" else img.save(out, fmt)
    return out.getvalue()
