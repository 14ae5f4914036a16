"""``GET /admin/api/metrics``: usage over a period, read from daily rollups (ops/admin_api/rollup.py)."""

from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model

from ops.admin_api.rollup import usage_for

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 90, "year": 365}
MAX_DAYS = 366
TOP = 10


def period_range(*, period: str | None, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The inclusive range of days: explicit dates win; else the period that ends today (or at ``end``)."""
    days = PERIOD_DAYS[period or "month"]
    end = end or (today if start is None else min(today, start + timedelta(days=days - 1)))
    start = start or end - timedelta(days=days - 1)
    return start, end


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def usage_metrics(*, start: date, end: date) -> dict:
    summary = usage_for(start=start, end=end)
    per_day = summary.days
    models: dict[str, int] = {}
    styles: dict[str, int] = {}
    for (model, style), images in summary.models.items():
        models[model] = models.get(model, 0) + images
        if style:
            styles[style] = styles.get(style, 0) + images

    daily = []
    day = start
    while day <= end:
        generations, images, credits, users = per_day.get(day, [0, 0, 0, 0])
        daily.append(
            {"date": day.isoformat(), "images": images, "credits": credits, "users": users, "generations": generations}
        )
        day += timedelta(days=1)

    images_total = sum(row["images"] for row in daily)
    styled_total = sum(styles.values())
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    top_models = sorted(models.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    top_styles = sorted(styles.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).days + 1},
        "totals": {
            "images_generated": images_total,
            "credits_consumed": sum(row["credits"] for row in daily),
            "active_users": len(summary.active),
            "new_registrations": get_user_model().objects.filter(date_joined__gte=since, date_joined__lt=until).count(),
            "generations": sum(row["generations"] for row in daily),
        },
        "daily_stats": daily,
        "popular_models": [
            {"model": model, "usage": _percent(images, images_total), "images": images} for model, images in top_models
        ],
        "popular_styles": [
            {"style": style, "percentage": _percent(images, styled_total), "images": images}
            for style, images in top_styles
        ],
    }
