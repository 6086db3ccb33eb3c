"""The bar chart shown inline in digests and bulletins: each unit's points, highest first.

Drawn with Pillow rather than a plotting library so the daemon stays light. Unit names need a CJK
font; Debian's fonts-wqy-microhei is the one setup-system installs. A host without one still gets a
chart, with the bars numbered in table order, because a missing font must never stop a bulletin.
The same report always gives the same bytes (no timestamps, a fixed order for ties).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from mailbot.domain.formats import fmt_points
from mailbot.domain.report import Report, UnitLine

CJK_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian/Ubuntu fonts-wqy-microhei
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),  # Fedora/RHEL wqy-microhei-fonts
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian fonts-noto-cjk
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora google-noto-sans-cjk
    Path("C:/Windows/Fonts/msyh.ttc"),  # Microsoft YaHei
)

WIDTH = 900
_MARGIN = 24
_HEADER = 84  # title and subtitle
_ROW = 34
_BAR = 22
_LABEL_MAX = 330  # px for unit names; longer names are cut with "…"
_BACKGROUND = (255, 255, 255)
_TEXT = (34, 34, 34)
_MUTED = (120, 120, 120)
_AXIS = (200, 200, 200)
_BAR_COLOUR = (59, 111, 182)
_PRAISED_COLOUR = (217, 130, 43)  # the units praised (表扬) stand out
_NEGATIVE = (198, 40, 40)  # a unit below zero: the red the bulletin uses for deductions

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def find_cjk_font() -> Path | None:
    """The first installed font that can draw Chinese unit names, if any."""
    return next((path for path in CJK_FONT_CANDIDATES if path.is_file()), None)


def bar_chart(report: Report) -> bytes:
    """PNG, WIDTH px wide and as tall as the units need."""
    fonts = _fonts()
    cjk = fonts is not None
    title_font, text_font = fonts or (_default_font(22), _default_font(16))
    # Stable sort: ties keep the table's order, so numbered bars match the table rows.
    units = sorted(report.units, key=lambda u: -round(u.points, 4))
    labels = [_fit(u.unit, text_font) if cjk else f"{n}." for n, u in enumerate(units, 1)]
    values = [fmt_points(u.points, fixed=True) for u in units]

    height = _HEADER + max(len(units), 1) * _ROW + _MARGIN
    image = Image.new("RGB", (WIDTH, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    if cjk:
        draw.text((_MARGIN, 16), report.title, font=title_font, fill=_TEXT)
        subtitle = f"各单位（科室）得分　{report.range_text}"
    else:
        draw.text((_MARGIN, 16), f"Points by unit, {report.period_label}", font=title_font, fill=_TEXT)
        subtitle = "Bars numbered in the order of the unit table"
    draw.text((_MARGIN, 50), subtitle, font=text_font, fill=_MUTED)
    if not units:
        draw.text((_MARGIN, _HEADER + 6), "无数据" if cjk else "No units", font=text_font, fill=_MUTED)
        return _png(image)

    label_width = max(draw.textlength(label, font=text_font) for label in labels)
    value_width = max(draw.textlength(value, font=text_font) for value in values)
    left = _MARGIN + int(label_width) + 12
    span = WIDTH - left - int(value_width) - 8 - _MARGIN
    zero, scale = _axis([u.points for u in units], span, int(value_width) + 8)
    praised = set(report.top_units)
    draw.line([(left + zero, _HEADER - 4), (left + zero, height - _MARGIN + 4)], fill=_AXIS, width=1)
    # Text anchors are FreeType-only; centre on the ink of a sample instead, which every font supports.
    _, ink_top, _, ink_bottom = draw.textbbox((0, 0), "国0", font=text_font)
    lift = (ink_top + ink_bottom) / 2
    for index, (unit, label, value) in enumerate(zip(units, labels, values, strict=True)):
        middle = _HEADER + index * _ROW + _ROW // 2
        draw.text(
            (left - 12 - draw.textlength(label, font=text_font), middle - lift), label, font=text_font, fill=_TEXT
        )
        length = _bar_length(unit, scale)
        if length > 0:
            colour = _PRAISED_COLOUR if unit.unit in praised else _BAR_COLOUR
            draw.rectangle([left + zero, middle - _BAR // 2, left + zero + length, middle + _BAR // 2], fill=colour)
            draw.text((left + zero + length + 8, middle - lift), value, font=text_font, fill=_TEXT)
        elif length < 0:  # deductions outweigh the points: the bar runs left of zero, its figure beside it
            draw.rectangle([left + zero + length, middle - _BAR // 2, left + zero, middle + _BAR // 2], fill=_NEGATIVE)
            width = draw.textlength(value, font=text_font)
            draw.text((left + zero + length - 8 - width, middle - lift), value, font=text_font, fill=_NEGATIVE)
        else:
            draw.text((left + zero + 8, middle - lift), value, font=text_font, fill=_TEXT)
    return _png(image)


def _axis(points: list[float], span: int, room: int) -> tuple[int, float]:
    """Where zero sits (px from the labels) and px per point: all positive keeps zero at the left edge;
    negative totals move it right so the lowest bar, and its figure beside it, fit on the left."""
    top = max(max(points), 0.0)
    bottom = min(min(points), 0.0)
    if top == bottom:
        return 0, 0.0
    usable = span - (room if bottom < 0 else 0)
    scale = usable / (top - bottom)
    return (room if bottom < 0 else 0) + round(-bottom * scale), scale


def _bar_length(unit: UnitLine, scale: float) -> int:
    """Signed px: positive bars to the right of zero, negative ones (deductions) to the left; 0 has none."""
    points = round(unit.points, 4)
    if points == 0 or scale == 0:
        return 0
    length = round(points * scale)
    return length or (1 if points > 0 else -1)


def _fonts() -> tuple[Font, Font] | None:
    """Title and label fonts from the CJK font, or None when there is none or it cannot be read."""
    path = find_cjk_font()
    if path is None:
        return None
    try:
        return ImageFont.truetype(str(path), 22), ImageFont.truetype(str(path), 16)
    except OSError:
        return None


def _default_font(size: int) -> Font:
    """Pillow's bundled font (Latin only); the bitmap one if Pillow was built without FreeType."""
    try:
        return ImageFont.load_default(size)
    except (ImportError, OSError):
        return ImageFont.load_default()


def _fit(text: str, font: Font) -> str:
    if font.getlength(text) <= _LABEL_MAX:
        return text
    while text and font.getlength(text + "…") > _LABEL_MAX:
        text = text[:-1]
    return text + "…"


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
