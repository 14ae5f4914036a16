"""Daily rollups of usage, so that /admin/api/metrics reads one row per user-day and per
model-day instead of every generation of the period.

A day is rolled up once it is settled: ``ATELIER_METRICS_SETTLE_HOURS`` after it ended (a job
created late in the day may finish after midnight; refunds count on the day they happen).
Days not yet settled (today, yesterday for a few hours) are computed live from the rows, which
the (created_at) indexes keep to that day's rows. Days are keyed by the generation's creation.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Count, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from credits.models import LedgerEntry
from generation.models import Generation, Status
from ops.models import UsageDay, UsageModelDay, UsageUserDay


@dataclass
class Usage:
    """Per user-day and per model-day figures of a set of days."""

    users: dict[tuple[date, int], list[int]] = field(default_factory=dict)  # [generations, images, credits]
    models: dict[tuple[date, str, str], int] = field(default_factory=dict)

    def user_row(self, day: date, user_id: int) -> list[int]:
        return self.users.setdefault((day, user_id), [0, 0, 0])


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def _day(value) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def usage_compute(*, start: date, end: date, team_id=None) -> Usage:
    """The figures of [start, end] from the rows themselves: one grouped query over the
    generations (the BRIN index on created_at narrows it to those days) and one over the ledger.

    Images are those the completed generations made (a user deleting one later does not unmake
    it); the model and style are the generation's, as its images carry them. Credits spent from
    a team's wallet count for the member who spent them. ``team_id``: that team's work only.
    """
    since, until = _bounds(start, end)
    usage = Usage()
    day = TruncDate("created_at", tzinfo=UTC)
    generations = Generation.objects.filter(created_at__gte=since, created_at__lt=until)
    ledger = LedgerEntry.objects.filter(created_at__gte=since, created_at__lt=until)
    if team_id is not None:
        generations, ledger = generations.filter(team_id=team_id), ledger.filter(team_id=team_id)
    rows = (
        generations.annotate(d=day, style=Coalesce(KT("params__art_style"), Value(""), output_field=CharField()))
        .values("d", "user_id", "model_id", "style")
        .annotate(n=Count("id"), images=Sum("num_images", filter=Q(status=Status.COMPLETED)))
        .values_list("d", "user_id", "model_id", "style", "n", "images")
    )
    for d, user_id, model, style, n, images in rows:
        d, images = _day(d), images or 0
        row = usage.user_row(d, user_id)
        row[0] += n
        row[1] += images
        if images:
            usage.models[(d, model, style or "")] = usage.models.get((d, model, style or ""), 0) + images
    for d, user_id, net in (
        ledger.filter(kind__in=[LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND])
        .annotate(d=day, spender=Coalesce("user_id", "member_id"))
        .values("d", "spender")
        .annotate(net=Sum("amount"))
        .values_list("d", "spender", "net")
    ):
        if user_id is not None:
            usage.user_row(_day(d), user_id)[2] += -(net or 0)
    return usage


def _settled_until(now: datetime) -> date:
    """The last day whose rollup may be stored."""
    return (now - timedelta(hours=settings.ATELIER_METRICS_SETTLE_HOURS)).date() - timedelta(days=1)


def _store(*, start: date, end: date, usage: Usage) -> None:
    with transaction.atomic():
        UsageUserDay.objects.bulk_create(
            [
                UsageUserDay(day=d, user_id=u, generations=row[0], images=row[1], credits=row[2])
                for (d, u), row in usage.users.items()
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        UsageModelDay.objects.bulk_create(
            [UsageModelDay(day=d, model=m, style=s, images=n) for (d, m, s), n in usage.models.items()],
            ignore_conflicts=True,
            batch_size=2000,
        )
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        UsageDay.objects.bulk_create([UsageDay(day=d) for d in days], ignore_conflicts=True)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into ranges, so each range is one set of queries."""
    runs: list[tuple[date, date]] = []
    for d in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


@dataclass
class Summary:
    """A period's figures: per day [generations, images, credits, users], the users active in
    it, and images by (model, style)."""

    days: dict[date, list[int]] = field(default_factory=dict)
    active: set[int] = field(default_factory=set)
    models: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, usage: Usage) -> None:
        for (day, user_id), (generations, images, credits) in usage.users.items():
            row = self.days.setdefault(day, [0, 0, 0, 0])
            row[0] += generations
            row[1] += images
            row[2] += credits
            if generations:
                row[3] += 1
                self.active.add(user_id)
        for (_day, model, style), images in usage.models.items():
            self.models[(model, style)] = self.models.get((model, style), 0) + images


def usage_for(*, start: date, end: date, now: datetime | None = None, team_id=None) -> Summary:
    """The figures of [start, end]: stored rollups of settled days (made now if missing), summed
    in the database, and the open days computed live. ``team_id``: one team's work, computed
    live (the rollups are per user)."""
    if team_id is not None:
        summary = Summary()
        summary.add(usage_compute(start=start, end=end, team_id=team_id))
        return summary
    now = now or timezone.now()
    last_settled = min(end, _settled_until(now))
    summary = Summary()
    if start <= last_settled:
        stored = set(UsageDay.objects.filter(day__gte=start, day__lte=last_settled).values_list("day", flat=True))
        wanted = [start + timedelta(days=i) for i in range((last_settled - start).days + 1)]
        for first, last in _runs([d for d in wanted if d not in stored]):
            _store(start=first, end=last, usage=usage_compute(start=first, end=last))
        users = UsageUserDay.objects.filter(day__gte=start, day__lte=last_settled)
        for day, generations, images, credits, active in (
            users.values("day")
            .annotate(
                g=Sum("generations"), i=Sum("images"), c=Sum("credits"), u=Count("id", filter=Q(generations__gt=0))
            )
            .values_list("day", "g", "i", "c", "u")
        ):
            summary.days[day] = [generations or 0, images or 0, credits or 0, active]
        summary.active.update(users.filter(generations__gt=0).values_list("user_id", flat=True).distinct())
        for model, style, images in (
            UsageModelDay.objects.filter(day__gte=start, day__lte=last_settled)
            .values("model", "style")
            .annotate(n=Sum("images"))
            .values_list("model", "style", "n")
        ):
            summary.models[(model, style)] = images or 0
    open_start = max(start, last_settled + timedelta(days=1))
    if open_start <= end:
        summary.add(usage_compute(start=open_start, end=end))
    return summary
