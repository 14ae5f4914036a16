"""Credit periods are UTC calendar months, named by their first day."""

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone


def period_of(moment: datetime | None = None) -> date:
    moment = (moment or timezone.now()).astimezone(UTC)
    return moment.date().replace(day=1)


def period_next(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_start(period: date) -> datetime:
    return datetime.combine(period, time.min, tzinfo=UTC)


def next_refill_at(moment: datetime | None = None) -> datetime:
    return period_start(period_next(period_of(moment)))
