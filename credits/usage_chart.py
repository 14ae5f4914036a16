"""Geometry of the account page's usage chart: one bar per day, drawn as server-rendered SVG."""

from datetime import date

WIDTH = 960
HEIGHT = 220
LEFT = 36
BOTTOM = 24
TOP = 12


def _nice_ceiling(value: int) -> int:
    """A round upper bound for the axis (1, 2, 5, 10, 20, 50…) at or above ``value``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def usage_chart(*, daily: list[dict], key: str = "images") -> dict:
    """Bars, axis ticks and labels for ``daily`` (``[{date, images, credits}]`` in order)."""
    values = [row.get(key, 0) or 0 for row in daily]
    top = _nice_ceiling(max(values, default=0) or 1)
    plot_width = WIDTH - LEFT - 8
    plot_height = HEIGHT - BOTTOM - TOP
    slot = plot_width / max(len(daily), 1)
    bar_width = max(slot * 0.7, 1)
    bars = []
    for index, (row, value) in enumerate(zip(daily, values, strict=True)):
        height = plot_height * value / top
        day = date.fromisoformat(row["date"])
        bars.append(
            {
                "x": round(LEFT + index * slot + (slot - bar_width) / 2, 1),
                "y": round(TOP + plot_height - height, 1),
                "width": round(bar_width, 1),
                "height": round(height, 1),
                "value": value,
                "label": day.strftime("%b %-d"),
                # Label every day of a week, every fifth day of a month.
                "show_label": len(daily) <= 7 or day.day == 1 or day.day % 5 == 0,
                "label_x": round(LEFT + index * slot + slot / 2, 1),
            }
        )
    ticks = [
        {"value": round(top * fraction), "y": round(TOP + plot_height * (1 - fraction), 1)} for fraction in (0, 0.5, 1)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "baseline": TOP + plot_height,
        "right": WIDTH - 8,
        "bars": bars,
        "ticks": ticks,
        "total": sum(values),
        "key": key,
    }
