import re
import weakref
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, QuerySet, Sum, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from accounts.selectors import user_preferences, user_privacy_preferences
from catalog.selectors import model_price_per_image
from core.process_cache import ProcessCache
from core.throttling import QUOTA_GROUP, rate_parts, user_usage_read
from credits.models import CreditAccount, LedgerEntry, Plan
from credits.periods import next_refill_at, period_next, period_of, period_start
from credits.seed_plans import PLANS

Kind = LedgerEntry.Kind
# Moves that are spending: a debit and the refund that undoes it.
SPENDING_KINDS = (Kind.DEBIT, Kind.REFUND)


# Users' plans, read by the quota checks of every request.
plan_cache = ProcessCache("plans")


def plan_for_user(*, user) -> Plan:
    """The user's plan (the default plan for an account that has none yet)."""
    return plan_cache.get(user.pk, lambda: _plan_load(user=user))


def _plan_load(*, user) -> Plan:
    return Plan.objects.filter(accounts__user=user).first() or plan_default_read()


def plan_default_read() -> Plan:
    """The plan of new users. A read: if someone emptied the table, the seed's default plan as an
    unsaved row (the data migration seeds it; ``credits.services.plan_default`` recreates it)."""
    plan = Plan.objects.filter(is_default=True).first()
    if plan is None:
        plan = Plan(**next(row for row in PLANS if row["is_default"]))
    return plan


# The quota limits last read in this context, with a weak reference to the user object they were
# read for. One request passes one user object to both its hourly and its daily check, which then
# read the plan once; another request has another user object and reads the plan afresh.
_quota_limits_read: ContextVar[tuple[weakref.ref, dict[str, int]] | None] = ContextVar(
    "quota_limits_read", default=None
)


def quota_limits(*, user) -> dict[str, int]:
    """The user's plan quotas: generations a day and API requests an hour."""
    read = _quota_limits_read.get()
    if read is not None and read[0]() is user:
        return read[1]
    plan = plan_for_user(user=user)
    daily = getattr(plan, "daily_generation_quota", None) or settings.ATELIER_DEFAULT_DAILY_GENERATIONS
    hourly = getattr(plan, "hourly_request_quota", None) or settings.ATELIER_DEFAULT_HOURLY_REQUESTS
    limits = {"daily_generations": daily, "hourly_requests": hourly}
    _quota_limits_read.set((weakref.ref(user), limits))
    return limits


def next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=now.tzinfo)


def credits_balance(*, user) -> int:
    return CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first() or 0


def credits_cost(*, model, num_images: int, params: dict | None = None) -> int:
    """What a generation costs: the price per image times the number of images."""
    return model_price_per_image(model=model, params=params) * num_images


def credits_used_between(*, user, start: datetime, end: datetime) -> int:
    """Credits spent in [start, end): debits less their refunds, from the ledger."""
    spent = LedgerEntry.objects.filter(
        user=user, kind__in=SPENDING_KINDS, created_at__gte=start, created_at__lt=end
    ).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    return -spent


def credits_summary(*, user) -> dict:
    account = CreditAccount.objects.filter(user=user).select_related("plan").first()
    plan = (account.plan if account else None) or plan_for_user(user=user)
    now = timezone.now()
    period = period_of(now)
    return {
        "remaining": account.balance if account else 0,
        "total": plan.monthly_credits,
        "used": credits_used_between(user=user, start=period_start(period), end=period_start(period_next(period))),
        "last_refill": account.last_refill_at if account else None,
        "next_refill": next_refill_at(now),
        "plan": plan.name,
    }


def ledger_list(*, user) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(user=user)


# Older entries name a training job by its id inside the reason ("LoRA training hold 8af0…").
_UUID_IN_REASON = re.compile(r"\s*\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)


def ledger_description(*, entry: LedgerEntry) -> tuple[str, str | None]:
    """What an entry was for, as people read it, and the id of what it belongs to (a generation,
    or the training an older reason named), kept apart from the words."""
    match = _UUID_IN_REASON.search(entry.reason)
    words = _UUID_IN_REASON.sub("", entry.reason).strip() or entry.get_kind_display()
    reference = str(entry.generation_id) if entry.generation_id else (match.group().strip() if match else None)
    return words, reference


def ledger_rows(*, user, limit: int) -> list[dict]:
    """The newest ``limit`` entries as the account page lists them."""
    rows = []
    for entry in ledger_list(user=user).order_by("-created_at", "-id")[:limit]:
        description, reference = ledger_description(entry=entry)
        rows.append(
            {
                "created_at": entry.created_at,
                "kind": entry.kind,
                "kind_label": entry.get_kind_display(),
                "description": description,
                "reference": reference,
                "amount": entry.amount,
                "balance_after": entry.balance_after,
            }
        )
    return rows


def _limit_row(*, name: str, label: str, limit: int, window: str, counts: str, usage: dict | None, now) -> dict:
    """One limit: ``usage`` is {"used", "resets_at"}, None where the limit is not enforced here."""
    used = min(usage["used"], limit) if usage else 0
    return {
        "name": name,
        "label": label,
        "limit": limit,
        "window": window,
        "used": used,
        "remaining": limit - used,
        "resets_at": usage["resets_at"] if usage else None,
        "resets_in": max(int((usage["resets_at"] - now).total_seconds()), 0) if usage else None,
        "enforced": usage is not None,
        "counts": counts,
    }


def _counter_usage(*, user, group: str, rate: str, now) -> dict | None:
    usage = user_usage_read(user=user, group=group, rate=rate)
    if usage is None:
        return None
    return {"used": usage["used"], "resets_at": now + timedelta(seconds=usage["seconds_left"])}


def _generations_started(*, user, start: datetime, end: datetime) -> int:
    # Every generation is charged by exactly one debit entry (a unique constraint holds it),
    # written in the transaction that counts it against its day: the ledger counts the day the
    # way the quota does, without this app reading the generation app's tables.
    return LedgerEntry.objects.filter(
        user=user, kind=Kind.DEBIT, generation__isnull=False, created_at__gte=start, created_at__lt=end
    ).count()


def limits_for_user(*, user) -> list[dict]:
    """Each limit the user has, with what is used, what is left and when it resets: the plan's
    hourly request quota, the plan's daily generation quota and the generation rate limit.

    Which requests count is core.throttling's rule (docs/limits.md). A limit that is switched off
    on this server (``ATELIER_QUOTAS_ENABLED``, ``RATELIMIT_ENABLE``) shows ``enforced: false``.
    """
    now = timezone.now()
    quotas = quota_limits(user=user)
    quotas_on = settings.ATELIER_QUOTAS_ENABLED
    hourly = quotas["hourly_requests"]
    hourly_usage = _counter_usage(user=user, group=QUOTA_GROUP, rate=f"{hourly}/h", now=now) if quotas_on else None
    daily = quotas["daily_generations"]
    midnight = next_utc_midnight(now)
    daily_usage = None
    if quotas_on:
        started = _generations_started(user=user, start=midnight - timedelta(days=1), end=midnight)
        daily_usage = {"used": started, "resets_at": midnight}
    rate = settings.ATELIER_RATE_LIMITS["generation"]
    per_window, _, window = rate_parts(rate)
    return [
        _limit_row(
            name="hourly_requests",
            label="API requests per hour",
            limit=hourly,
            window="hour",
            counts="Calls that make or change things, and reads with an API key. Never your files, thumbnails, "
            "downloads, event streams or this site's own page reads.",
            usage=hourly_usage,
            now=now,
        ),
        _limit_row(
            name="daily_generations",
            label="Generations per day",
            limit=daily,
            window="day (UTC)",
            counts="Every generation started today (UTC), whichever way it was asked for.",
            usage=daily_usage,
            now=now,
        ),
        _limit_row(
            name="generation",
            label=f"Generations per {window}",
            limit=per_window,
            window=window,
            counts="Every generation started, however it was asked for; a replayed Idempotency-Key is not new.",
            usage=_counter_usage(user=user, group="generation", rate=rate, now=now),
            now=now,
        ),
    ]


def usage_window(*, period: str, year: int | None = None, month: int | None = None, today: date | None = None):
    """The [start, end) dates and the label of a usage period: today, this ISO week, or a month."""
    today = today or timezone.now().date()
    if period == "day":
        return today, today + timedelta(days=1), today.isoformat()
    if period == "week":
        start = today - timedelta(days=today.weekday())
        iso = today.isocalendar()
        return start, start + timedelta(days=7), f"{iso.year}-W{iso.week:02d}"
    first = date(year or today.year, month or (today.month if year in (None, today.year) else 1), 1)
    return first, period_next(first), f"{first:%Y-%m}"


def _day(value: date) -> datetime:
    return period_start(value)


# Generation statuses whose charge is given back: such a generation is not usage.
_NOT_USAGE = ("failed", "cancelled")


def usage_stats(*, user, period: str, year: int | None = None, month: int | None = None) -> dict:
    """Seed 004's usage statistics, from aggregate queries over the ledger's debits.

    Every generation is charged by exactly one debit entry (a unique constraint holds it),
    written in the transaction that saves it: the debits in the window are the generations made
    in it, their amounts what they cost. A generation counts when it did not fail and was not
    cancelled; its images, model and ``art_style`` (``none`` when it had none) are read across
    the entry's ``generation`` relation, which this app's model declares, so that this app
    imports nothing of the generation app.
    """
    start, end, label = usage_window(period=period, year=year, month=month)
    rows = LedgerEntry.objects.filter(
        user=user, kind=Kind.DEBIT, generation__isnull=False, created_at__gte=_day(start), created_at__lt=_day(end)
    ).exclude(generation__status__in=_NOT_USAGE)
    totals = rows.aggregate(
        generations=Count("pk"),
        images=Coalesce(Sum("generation__num_images"), 0),
        spent=Coalesce(Sum("amount"), 0),
    )
    by_model = (
        rows.values(model_id=F("generation__model_id"))
        .annotate(images=Sum("generation__num_images"))
        .order_by("-images", "model_id")
    )
    by_style = (
        rows.annotate(
            style=Coalesce(KeyTextTransform("art_style", "generation__params"), Value("none"), output_field=TextField())
        )
        .values("style")
        .annotate(images=Sum("generation__num_images"))
        .order_by("-images", "style")
    )
    per_day = {
        row["day"]: row
        for row in rows.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(images=Sum("generation__num_images"), spent=Sum("amount"))
        .order_by("day")
    }
    daily = []
    day = start
    while day < end:
        row = per_day.get(day, {})
        daily.append({"date": day.isoformat(), "images": row.get("images", 0), "credits": -row.get("spent", 0)})
        day += timedelta(days=1)
    return {
        "period": label,
        "start": start.isoformat(),
        "end": (end - timedelta(days=1)).isoformat(),
        "total_images": totals["images"],
        "total_generations": totals["generations"],
        "credits_used": -totals["spent"],
        "credits_allocated": plan_for_user(user=user).monthly_credits,
        "usage_by_model": {row["model_id"]: row["images"] for row in by_model},
        "usage_by_style": {row["style"]: row["images"] for row in by_style},
        "daily_usage": daily,
    }


def user_profile(*, user) -> dict:
    """Seed 004's profile: the user, the subscription block and the preferences."""
    summary = credits_summary(user=user)
    return {
        "id": str(user.uuid),
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "role": "admin" if user.is_staff else "user",
        "created_at": user.date_joined,
        "subscription": {
            "plan": summary["plan"],
            "credits_remaining": summary["remaining"],
            "credits_allocated": summary["total"],
            "credits_used_this_month": summary["used"],
            "next_reset": summary["next_refill"],
            "is_active": user.is_active,
        },
        "preferences": user_preferences(user=user),
        # Beside seed 004's preferences, whose clients expect exactly its keys there.
        "privacy": user_privacy_preferences(user=user),
        "limits": limits_for_user(user=user),
    }
