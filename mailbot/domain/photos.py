"""Photo inspection: news items need real photos, not thumbnails or files that do not open."""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass
from types import ModuleType

from mailbot.domain import jpeg

PHOTO_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif", ".hif"}
)
# No "MPO": Pillow opens a multi-picture JPEG through the JPEG plugin (its format then reads "MPO") and
# registers no opener of that name, so listing it raised KeyError before any later format was tried.
_FORMATS = ["JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "HEIF"]
# Well above any camera (a 100 MP frame is 1e8 px) and below Pillow's own bomb limit.
MAX_PIXELS = 120_000_000
# Decoding a 64 MP PNG takes over a second, and a 30 MB message can carry a hundred of them:
# one message may decode this many pixels in full; later photos are checked by verify() only.
DECODE_BUDGET = 200_000_000
_SCALED = frozenset({"JPEG", "MPO"})  # walked (mailbot.domain.jpeg); when damaged, decoded at 1/8 scale
# libheif has no reduced-scale decode and HEIF's verify() checks nothing, so a HEIC photo costs its
# full pixel count, as a PNG does: a 12 MP iPhone photo decodes in about 0.3 s.


@functools.cache
def _pillow() -> ModuleType:
    """Pillow with HEIF, loaded by the first photo a process inspects (the analysis worker's): the
    daemon that only fetches and records does not carry them (~11 MB).

    iPhones save HEIC by default: libheif (through pillow-heif) reads it as Pillow's "HEIF" format.
    Embedded thumbnails are not opened: a photo is judged by its own pixels."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener(thumbnails=False)
    return Image


class DecodeBudget:
    """The pixels one message may still decode in full (see DECODE_BUDGET)."""

    def __init__(self, pixels: int = DECODE_BUDGET) -> None:
        self.left = pixels

    def take(self, pixels: int) -> bool:
        if pixels > self.left:
            return False
        self.left -= pixels
        return True


@dataclass(frozen=True)
class Photo:
    name: str
    width: int = 0
    height: int = 0
    format: str = ""
    size: int = 0
    problem: str | None = None  # photo_broken | photo_bomb | None


def inspect_photo(name: str, data: bytes, budget: DecodeBudget | None = None) -> Photo:
    """Open, verify and measure; any decoding failure is a verdict, never an exception.

    A JPEG whose markers are whole (`jpeg.walk`) is not decoded: its tables are, from a short probe.
    Any other photo is decoded, a JPEG at 1/8 scale; without a ``budget`` every one, with one only
    while it lasts.
    """
    Image = _pillow()  # noqa: N806 - PIL's own module name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=_FORMATS) as img:
                width, height, fmt = img.width, img.height, img.format or ""
                if width * height > MAX_PIXELS:
                    return Photo(name, width, height, fmt, len(data), "photo_bomb")
                img.verify()
            layout = jpeg.walk(data) if fmt in _SCALED else None
            if layout is not None and layout.intact:
                _decode(Image, jpeg.probe(data, layout))
            elif budget is None or budget.take(width * height // (64 if fmt in _SCALED else 1)):
                # verify() misses truncated pixel data (in JPEG; PNG's checks it); a JPEG the walk
                # finds damaged is still decoded: libjpeg, not the walk, has the last word on it
                _decode(Image, data)
            elif layout is not None:  # damaged, and no decoding left in this message to overrule it
                return Photo(name, width, height, fmt, len(data), "photo_broken")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Photo(name=name, size=len(data), problem="photo_bomb")
    except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError, struct.error ...)
        return Photo(name=name, size=len(data), problem="photo_broken")
    return Photo(name, width, height, fmt, len(data))


def _decode(Image: ModuleType, data: bytes) -> None:  # noqa: N803 - PIL's own module name
    """Decode the pixels (a JPEG at 1/8 scale: every byte read, 1/64 of the pixels)."""
    with Image.open(io.BytesIO(data), formats=_FORMATS) as img:
        if img.format in _SCALED:
            img.draft(None, (max(1, img.width // 8), max(1, img.height // 8)))
        img.load()
