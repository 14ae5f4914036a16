"""Small SVG charts rendered on the server: no script, no CDN, readable without CSS.

Each chart is an ``<svg role="img">`` with a ``<title>`` and, per bar or point, a ``<title>``
that a browser shows on hover and a screen reader reads.
"""

from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 28
# The widest a character of the charts' 11 px sans-serif text is drawn, in viewBox units: the
# room a value's text needs beside its bar is reckoned from it (an SVG clips what overflows).
CHAR_WIDTH = 6.6


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    note: str = ""


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or value >= 100 else f"{value:,.1f}"


def _frame(*, title: str, slug: str, body: SafeString, width: int = WIDTH, height: int = HEIGHT) -> SafeString:
    return format_html(
        '<svg class="atelier-chart" data-chart="{}" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        slug,
        title,
        width,
        height,
        title,
        body,
    )


def _axes(*, top: float, unit: str) -> SafeString:
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    lines = []
    for fraction in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - fraction)
        lines.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                PAD_LEFT,
                WIDTH - PAD_RIGHT,
                round(y, 1),
                round(y, 1),
                PAD_LEFT - 6,
                round(y + 4, 1),
                _fmt(top * fraction) + (unit if fraction else ""),
            )
        )
    return mark_safe("".join(lines))  # noqa: S308 - built from format_html pieces


def column_chart(points: list[Point], *, title: str, slug: str, unit: str = "") -> SafeString:
    """Vertical bars, one per point (days), labelled every few bars so that labels never overlap."""
    top = _nice_max(max((p.value for p in points), default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(points), 1)
    every = max(1, round(len(points) / 8))
    bars = []
    for index, point in enumerate(points):
        h = plot_h * point.value / top if top else 0
        x = PAD_LEFT + index * slot + slot * 0.15
        bars.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {}{}</title></rect>',
                round(x, 1),
                round(PAD_TOP + plot_h - h, 1),
                round(slot * 0.7, 1),
                round(h, 1),
                point.label,
                _fmt(point.value),
                unit,
            )
        )
        if index % every == 0:
            bars.append(
                format_html(
                    '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                    round(x + slot * 0.35, 1),
                    HEIGHT - 8,
                    point.label,
                )
            )
    return _frame(title=title, slug=slug, body=_axes(top=top, unit=unit) + mark_safe("".join(bars)))  # noqa: S308


def bar_list(points: list[Point], *, title: str, slug: str, unit: str = "") -> SafeString:
    """Horizontal bars with their labels: top models, providers, queues."""
    row = 26
    label_w = 210
    width = WIDTH
    height = max(row * len(points) + 8, 60)
    top = _nice_max(max((p.value for p in points), default=0))
    # The longest bar ends where the longest value text (e.g. "1,234 ms (p95 2,345 ms, 120
    # calls)") still fits before the right edge.
    text_w = max((len(_value_text(p, unit)) for p in points), default=0) * CHAR_WIDTH + 6 + PAD_RIGHT
    plot_w = max(width - label_w - text_w, 80)
    rows = []
    if not points:
        rows.append(format_html('<text class="tick" x="{}" y="24">{}</text>', 8, "No data yet"))
    for index, point in enumerate(points):
        y = 4 + index * row
        w = plot_w * point.value / top if top else 0
        rows.append(
            format_html(
                '<text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {}{}</title></rect>'
                '<text class="value" x="{}" y="{}">{}</text>',
                label_w - 8,
                y + 16,
                point.label[:30],
                label_w,
                y + 4,
                round(max(w, 1), 1),
                row - 10,
                point.label,
                _fmt(point.value),
                unit,
                round(label_w + max(w, 1) + 6, 1),
                y + 16,
                _value_text(point, unit),
            )
        )
    return _frame(title=title, slug=slug, body=mark_safe("".join(rows)), width=width, height=height)  # noqa: S308


def _value_text(point: Point, unit: str) -> str:
    return f"{_fmt(point.value)}{unit}" + (f" ({point.note})" if point.note else "")
