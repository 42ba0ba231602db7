"""Charts drawn on the server: one layout, two outputs (SVG for pages and PDFs, PNG for e-mails).

A chart is described by a JSON-safe *spec* (a report run stores it with its data, so a retried
e-mail draws the same chart):

    {"id": "kpi-12", "kind": "line", "title": "...", "summary": "...", "unit": "percent",
     "x": ["2026-09-06", ...],                       # ISO dates, ascending
     "series": [{"name": "Value", "values": [1.0, None, ...], "style": "solid"|"dashed"}],
     "target": 50.0 | None, "target_label": "Target 50%"}

    {"id": "roadmap", "kind": "bars", "title": "...", "summary": "...",
     "bars": [{"label": "Checkout", "value": 40 | None, "note": "12/30 pts"}]}   # value in percent

`layout(spec)` turns a spec into drawing primitives in a 640-unit-wide box; `svg(spec)` and
`png(spec)` paint the same primitives, so the two outputs cannot disagree. Every text that
reaches the SVG is escaped (KPI names are user text). Pure: no database, no request; Pillow is
imported only to draw a PNG. Why SVG + PNG: docs/decisions/1400-report-charts.md.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from functools import lru_cache
from html import escape

from pmhub.formatting import date as human_date
from pmhub.formatting import kpi_value

WIDTH = 640
NARROW_WIDTH = 340
LINE_HEIGHT = 240
BAR_ROW = 26
PALETTE = ["#2563eb", "#9333ea", "#0d9488", "#ea580c"]
TARGET = "#dc2626"
GRID = "#e5e7eb"
AXIS = "#6b7280"
INK = "#111827"
BAR_BG = "#e5e7eb"
BAR_FG = "#2563eb"
FONT = 12
LABEL_CHARS = 28
DOTS_UP_TO = 31


def _clip(text: str, limit: int = LABEL_CHARS) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if high <= low:
        high = low + (abs(low) or 1)
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _dates(spec) -> list[dt.date]:
    return [dt.date.fromisoformat(x) for x in spec.get("x", [])]


def layout(spec: dict, *, narrow: bool = False) -> dict:
    """{"width", "height", "items": [primitive, ...]} for a spec. Primitives:
    ("line", x1, y1, x2, y2, colour, width, dashed), ("poly", points, colour, width, dashed),
    ("rect", x, y, w, h, colour), ("dot", x, y, r, colour),
    ("text", x, y, text, size, colour, anchor "start"|"middle"|"end", bold).
    `narrow`: a layout for a phone (NARROW_WIDTH wide, legend on rows, labels above the bars)."""
    width = NARROW_WIDTH if narrow else WIDTH
    return _bars(spec, width) if spec.get("kind") == "bars" else _line(spec, width)


def _legend(entries: list, *, left: float, right: float) -> tuple[list, int]:
    """Legend entries (colour, dashed, label) placed left to right, wrapping onto new rows."""
    items, x, row = [], left, 0
    for colour, dashed, label, width in entries:
        size = 40 + 7 * len(label)
        if x > left and x + size > right:
            x, row = left, row + 1
        y = 12 + row * 16
        items.append(("line", x, y, x + 18, y, colour, width, dashed))
        items.append(("text", x + 22, y + 4, label, FONT - 1, INK, "start", False))
        x += size
    return items, row + 1


def _line(spec: dict, width: int = WIDTH) -> dict:
    unit = spec.get("unit")
    days = _dates(spec)
    series = spec.get("series", [])
    values = [v for s in series for v in s.get("values", []) if v is not None]
    target = spec.get("target")
    pool = values + ([target] if target is not None else [])
    items: list = []
    left, right = (64 if width < WIDTH else 78), width - 16
    if not pool or not days:
        items.append(("text", width / 2, LINE_HEIGHT / 2, "No data in this period", FONT, AXIS, "middle", False))
        return {"width": width, "height": LINE_HEIGHT, "items": items}
    entries = [(PALETTE[n % len(PALETTE)], s.get("style") == "dashed", _clip(s.get("name", ""), 24), 2)
               for n, s in enumerate(series)]
    if target is not None:
        label = spec.get("target_label") or f"Target {kpi_value(target, unit)}"
        entries.append((TARGET, True, _clip(label, 30), 1.5))
    legend, rows = _legend(entries, left=left if width >= WIDTH else 8, right=right)
    items.extend(legend)
    top, bottom = 30 + 16 * (rows - 1), LINE_HEIGHT - 30 + 16 * (rows - 1)
    height = LINE_HEIGHT + 16 * (rows - 1)
    low, high = min(pool), max(pool)
    if spec.get("zero"):  # burn-down: the axis starts at zero points
        low = min(low, 0)
    elif high > low:  # a KPI: the data's own range, with a little air
        low, high = low - (high - low) * 0.1, high + (high - low) * 0.1
    ticks = nice_ticks(low, high)
    y0, y1 = ticks[0], ticks[-1]

    def y_of(v):
        return bottom - (v - y0) / ((y1 - y0) or 1) * (bottom - top)

    first, last = days[0], days[-1]
    span = (last - first).days or 1

    def x_of(d):
        return left + (d - first).days / span * (right - left) if len(days) > 1 else (left + right) / 2

    for t in ticks:
        y = y_of(t)
        items.append(("line", left, y, right, y, GRID, 1, False))
        items.append(("text", left - 6, y + 4, kpi_value(t, unit), FONT - 1, AXIS, "end", False))
    items.append(("line", left, bottom, right, bottom, AXIS, 1, False))
    for d, anchor in (((first, "middle"),) if first == last else ((first, "start"), (last, "end"))):
        items.append(("text", x_of(d), bottom + 18, human_date(d), FONT - 1, AXIS, anchor, False))
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        dashed = s.get("style") == "dashed"
        runs, run = [], []
        for d, v in zip(days, s.get("values", []), strict=False):
            if v is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((round(x_of(d), 2), round(y_of(v), 2)))
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                items.append(("poly", r, colour, 2, dashed))
            if not dashed and (len(days) <= DOTS_UP_TO or len(r) == 1):  # dots only where they can be told apart
                items.extend(("dot", x, y, 2.5, colour) for x, y in r)
    if target is not None:
        y = y_of(target)
        items.append(("line", left, y, right, y, TARGET, 1.5, True))
    return {"width": width, "height": height, "items": items}


def _bars(spec: dict, width: int = WIDTH) -> dict:
    bars = spec.get("bars", [])
    narrow = width < WIDTH
    row = BAR_ROW + 12 if narrow else BAR_ROW
    height = max(40, 12 + row * len(bars))
    label_w, note_w = (8, 8) if narrow else (220, 110)
    x0, x1 = label_w, width - note_w
    items: list = []
    if not bars:
        items.append(("text", width / 2, 24, "Nothing to show yet", FONT, AXIS, "middle", False))
        return {"width": width, "height": height, "items": items}
    for n, b in enumerate(bars):
        y = 6 + n * row
        bar_y = y + 16 if narrow else y + 4  # a phone: the label above its bar, the figure at its end
        value = b.get("value")
        note = b.get("note")
        if value is not None:
            text = f"{kpi_value(value, 'percent')} {note}" if note else kpi_value(value, "percent")
        else:
            text = "no stories"
        if narrow:
            items.append(("text", x0, y + 11, _clip(b.get("label", ""), 30), FONT, INK, "start", False))
            items.append(("text", x1, y + 11, text, FONT - 1, AXIS, "end", False))
        else:
            items.append(("text", label_w - 8, y + 15, _clip(b.get("label", "")), FONT, INK, "end", False))
            items.append(("text", x1 + 8, y + 15, text, FONT - 1, AXIS, "start", False))
        items.append(("rect", x0, bar_y, x1 - x0, 14, BAR_BG))
        if value is not None:
            w = max(0.0, min(100.0, float(value))) / 100 * (x1 - x0)
            if w > 0:
                items.append(("rect", x0, bar_y, round(w, 2), 14, BAR_FG))
    return {"width": width, "height": height, "items": items}


# --- SVG ------------------------------------------------------------------------------------------
def _dash(dashed: bool) -> str:
    return ' stroke-dasharray="6 4"' if dashed else ""


def svg(spec: dict, *, width: int | None = None, narrow: bool = False) -> str:
    """The chart as an inline <svg> element with a <title> and a <desc> (its text summary).
    Fluid (100 % of its box, at most its own width) unless `width` fixes it in CSS pixels (the
    PDF: WeasyPrint sizes a fluid SVG in a table cell to almost nothing). `narrow`: the phone
    layout (class chart-narrow, ids suffixed "-n"; the page shows one of the two by CSS)."""
    box = layout(spec, narrow=narrow)
    size = (f"width:{width}px;height:{round(width * box['height'] / box['width'], 1)}px" if width
            else f"width:100%;height:auto;max-width:{box['width']}px")
    cid = escape(str(spec.get("id", "chart")) + ("-n" if narrow else ""))
    kind = "chart-narrow" if narrow else "chart-wide"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg {kind}"'
             f' viewBox="0 0 {box["width"]} {box["height"]}"'
             f' width="{box["width"]}" height="{box["height"]}" role="img" preserveAspectRatio="xMinYMin meet"'
             f' style="{size}"'
             f' aria-labelledby="{cid}-t {cid}-d" data-chart="{cid}" font-family="DejaVu Sans, Arial, sans-serif">',
             f'<title id="{cid}-t">{escape(spec.get("title", ""))}</title>',
             f'<desc id="{cid}-d">{escape(spec.get("summary", ""))}</desc>']
    for item in box["items"]:
        kind = item[0]
        if kind == "line":
            _, x1, y1, x2, y2, colour, width, dashed = item
            parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"'
                         f' stroke-width="{width}"{_dash(dashed)}/>')
        elif kind == "poly":
            _, points, colour, width, dashed = item
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="{width}"'
                         f' stroke-linejoin="round"{_dash(dashed)}/>')
        elif kind == "rect":
            _, x, y, w, h, colour = item
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="2" fill="{colour}"/>')
        elif kind == "dot":
            _, x, y, r, colour = item
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>')
        elif kind == "text":
            _, x, y, text, size, colour, anchor, bold = item
            weight = ' font-weight="bold"' if bold else ""
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{colour}" text-anchor="{anchor}"'
                         f'{weight}>{escape(str(text))}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- PNG ------------------------------------------------------------------------------------------
SCALE = 2  # drawn at twice the size, shown at 640 px wide: sharp on high-density screens


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))


def _dashed_segments(points, on: float = 6, off: float = 4):
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        length = math.hypot(bx - ax, by - ay)
        pos = 0.0
        while pos < length:
            end = min(pos + on, length)
            yield ((ax + (bx - ax) * pos / length, ay + (by - ay) * pos / length),
                   (ax + (bx - ax) * end / length, ay + (by - ay) * end / length))
            pos += on + off


def png(spec: dict) -> bytes:
    """The chart as PNG bytes (for e-mail clients that do not show inline SVG)."""
    from PIL import Image, ImageDraw

    box = layout(spec)
    s = SCALE
    image = Image.new("RGB", (int(box["width"] * s), int(box["height"] * s)), "white")
    draw = ImageDraw.Draw(image)
    for item in box["items"]:
        kind = item[0]
        if kind in ("line", "poly"):
            if kind == "line":
                _, x1, y1, x2, y2, colour, width, dashed = item
                points = [(x1, y1), (x2, y2)]
            else:
                _, points, colour, width, dashed = item
            scaled = [(x * s, y * s) for x, y in points]
            w = max(1, round(width * s))
            if dashed:
                for a, b in _dashed_segments(scaled, 6 * s, 4 * s):
                    draw.line([a, b], fill=_rgb(colour), width=w)
            else:
                draw.line(scaled, fill=_rgb(colour), width=w, joint="curve")
        elif kind == "rect":
            _, x, y, w, h, colour = item
            draw.rectangle([x * s, y * s, (x + w) * s, (y + h) * s], fill=_rgb(colour))
        elif kind == "dot":
            _, x, y, r, colour = item
            draw.ellipse([(x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s], fill=_rgb(colour))
        elif kind == "text":
            _, x, y, text, size, colour, anchor, _bold = item
            draw.text((x * s, y * s), str(text), fill=_rgb(colour), font=_font(int(size * s)),
                      anchor={"start": "ls", "middle": "ms", "end": "rs"}[anchor])
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def png_size(spec: dict) -> tuple[int, int]:
    """The size (CSS px) the PNG is shown at."""
    box = layout(spec)
    return box["width"], box["height"]
