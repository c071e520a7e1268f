"""Small SVG charts drawn in Python: a series of values over periods, as bars or a line.

Pages show statistics without JavaScript or a charting library, so they work offline and
in any browser; the SVG is text, so tests can read the values back from it (every point
carries a ``<title>`` with its label and value, which is also the browser's tooltip).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Point", "bar_chart", "line_chart", "nice_ticks"]

Point = tuple[str, float]
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 56


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (1, 2 or 5 times a power of ten).

    >>> nice_ticks(38246)
    [0, 10000, 20000, 30000, 40000]
    """
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    ticks, value = [], 0.0
    while value < maximum:
        value += step
        ticks.append(value)
    return [0, *[int(t) if float(t).is_integer() else t for t in ticks]]


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _frame(title: str, ticks: list[float], scale: float, kind: str) -> list[str]:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label={quoteattr(title)}>',
             f'<title>{escape(title)}</title>',
             f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for tick in ticks:
        y = HEIGHT - BOTTOM - tick * scale
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
                     f'{_number(tick)}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>')
    return parts


def _x_label(x: float, label: str, every: int, index: int) -> str:
    if index % every:
        return ""
    return (f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" text-anchor="end" '
            f'transform="rotate(-35 {x:.1f} {HEIGHT - BOTTOM + 14})">{escape(label)}</text>')


def _layout(points: Sequence[Point]) -> tuple[list[float], float, float, int]:
    ticks = nice_ticks(max((v for _, v in points), default=0))
    scale = (HEIGHT - TOP - BOTTOM) / (ticks[-1] or 1)
    step = (WIDTH - LEFT - RIGHT) / max(len(points), 1)
    every = max(1, math.ceil(len(points) / 16))
    return ticks, scale, step, every


def bar_chart(points: Sequence[Point], title: str) -> str:
    """Bars for ``(label, value)`` points, in the order given."""
    ticks, scale, step, every = _layout(points)
    parts = _frame(title, ticks, scale, "bar")
    for i, (label, value) in enumerate(points):
        x, h = LEFT + i * step, value * scale
        parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" '
                     f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="#3b6ea5">'
                     f'<title>{escape(label)}: {_number(value)}</title></rect>')
        parts.append(_x_label(x + step / 2, label, every, i))
    parts.append("</svg>")
    return "\n".join(p for p in parts if p)


def line_chart(points: Sequence[Point], title: str) -> str:
    """A line through ``(label, value)`` points, in the order given, with a dot per point."""
    ticks, scale, step, every = _layout(points)
    parts = _frame(title, ticks, scale, "line")
    coords = [(LEFT + (i + 0.5) * step, HEIGHT - BOTTOM - v * scale)
              for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#3b6ea5" stroke-width="2"/>')
    for i, ((label, value), (x, y)) in enumerate(zip(points, coords, strict=True)):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#3b6ea5">'
                     f'<title>{escape(label)}: {_number(value)}</title></circle>')
        parts.append(_x_label(x, label, every, i))
    parts.append("</svg>")
    return "\n".join(p for p in parts if p)
