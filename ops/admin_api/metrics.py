"""``GET /admin/api/metrics``: usage over a period, from grouped queries (one row per day)."""

from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 90, "year": 365}
MAX_DAYS = 366
TOP = 10


def period_range(*, period: str | None, start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The inclusive range of days: explicit dates win; else the period that ends today (or at ``end``)."""
    days = PERIOD_DAYS[period or "month"]
    end = end or (today if start is None else min(today, start + timedelta(days=days - 1)))
    start = start or end - timedelta(days=days - 1)
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min, tzinfo=UTC), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=UTC
    )


def _day(value) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def usage_metrics(*, start: date, end: date) -> dict:
    from credits.models import LedgerEntry
    from gallery.models import Asset
    from generation.models import Generation

    since, until = _bounds(start, end)
    assets = Asset.objects.filter(created_at__gte=since, created_at__lt=until)
    generations = Generation.objects.filter(created_at__gte=since, created_at__lt=until)
    charges = LedgerEntry.objects.filter(
        created_at__gte=since, created_at__lt=until, kind__in=[LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND]
    )

    images_by_day = dict(
        assets.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    credits_by_day = dict(
        charges.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(net=Sum("amount"))
        .values_list("day", "net")
    )
    people_by_day = {
        _day(day): (users, count)
        for day, users, count in generations.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("user_id", distinct=True), g=Count("id"))
        .values_list("day", "n", "g")
    }
    images_by_day = {_day(k): v for k, v in images_by_day.items()}
    credits_by_day = {_day(k): -(v or 0) for k, v in credits_by_day.items()}

    daily = []
    day = start
    while day <= end:
        daily.append(
            {
                "date": day.isoformat(),
                "images": images_by_day.get(day, 0),
                "credits": credits_by_day.get(day, 0),
                "users": people_by_day.get(day, (0, 0))[0],
                "generations": people_by_day.get(day, (0, 0))[1],
            }
        )
        day += timedelta(days=1)

    images_total = sum(images_by_day.values())
    models = list(assets.values("model").annotate(images=Count("id")).order_by("-images", "model")[:TOP])
    styles = list(
        assets.exclude(style="").values("style").annotate(images=Count("id")).order_by("-images", "style")[:TOP]
    )
    styled_total = assets.exclude(style="").count() if styles else 0
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": (end - start).days + 1},
        "totals": {
            "images_generated": images_total,
            "credits_consumed": sum(credits_by_day.values()),
            "active_users": generations.values("user_id").distinct().count(),
            "new_registrations": get_user_model().objects.filter(date_joined__gte=since, date_joined__lt=until).count(),
            "generations": generations.count(),
        },
        "daily_stats": daily,
        "popular_models": [
            {
                "model": row["model"],
                "usage": round(100.0 * row["images"] / images_total, 1) if images_total else 0.0,
                "images": row["images"],
            }
            for row in models
        ],
        "popular_styles": [
            {
                "style": row["style"],
                "percentage": round(100.0 * row["images"] / styled_total, 1) if styled_total else 0.0,
                "images": row["images"],
            }
            for row in styles
        ],
    }
