"""Training jobs: the price and the quote, the credit hold and the start, cancel, failure, refunds."""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, ProviderUnavailable, QuotaExceeded, ValidationFailed
from core.task_messages import task_send
from core.throttling import user_rate_limit_hit
from credits.models import LedgerEntry
from credits.selectors import credits_balance, plan_for_user
from credits.services import credits_debit, credits_grant
from credits.team_selectors import team_wallet_balance
from credits.team_wallet import team_wallet_debit, team_wallet_refund
from teams.policy import team_training_check
from training.models import TERMINAL_STATUSES, Status, TrainingDataset, TrainingEvent, TrainingJob
from training.providers import training_provider
from training.services.uploads import dataset_for_training
from training.state import transition

logger = logging.getLogger(__name__)


def training_price(*, provider: str, steps: int) -> int:
    """Credits for a run: the provider's base price plus its price per thousand steps."""
    base = settings.ATELIER_TRAINING_BASE_CREDITS.get(provider, 0)
    per_thousand = settings.ATELIER_TRAINING_CREDITS_PER_1000_STEPS.get(provider, 0)
    return base + math.ceil(steps * per_thousand / 1000)


def training_estimate_seconds(*, provider: str, steps: int, image_count: int) -> int:
    seconds_per_step = settings.ATELIER_TRAINING_SECONDS_PER_STEP.get(provider, 1.0)
    return max(5, math.ceil(steps * seconds_per_step + image_count * 0.5))


def _options(*, data: dict, dataset: TrainingDataset) -> dict:
    provider = data.get("provider") or settings.ATELIER_TRAINING_DEFAULT_PROVIDER
    try:
        adapter = training_provider(provider)
    except KeyError:
        raise ValidationFailed(
            details={"provider": [f"Unknown training provider '{provider}'. Use one of: local, fal, replicate."]}
        ) from None
    if not adapter.is_configured():
        missing = " and ".join(adapter.missing_settings())
        raise ProviderUnavailable(
            f"The {provider} training provider is not configured",
            details=f"Set {missing} to enable {provider} training." if missing else None,
        )
    steps = data.get("steps") or adapter.default_steps
    if not adapter.min_steps <= steps <= adapter.max_steps:
        raise ValidationFailed(
            details={"steps": [f"{provider} trains {adapter.min_steps} to {adapter.max_steps} steps."]}
        )
    return {
        "provider": provider,
        "base_model": data.get("base_model") or adapter.default_base_model,
        "steps": steps,
        "rank": data.get("rank") or 16,
        "learning_rate": data.get("learning_rate") or adapter.default_learning_rate,
        "is_style": bool(data.get("is_style", False)),
        "create_masks": data.get("create_masks", True) is not False,
        "trigger_word": data["trigger_word"],
        "cost": training_price(provider=provider, steps=steps),
        "estimated_seconds": training_estimate_seconds(provider=provider, steps=steps, image_count=dataset.image_count),
    }


@dataclass(frozen=True)
class TrainingQuote:
    dataset: TrainingDataset
    provider: str
    steps: int
    cost: int
    credits_remaining: int
    sufficient: bool
    estimated_seconds: int


@dataclass(frozen=True)
class TrainingOutcome:
    """A job just started or cancelled, and the owner's balance once its credits moved."""

    job: TrainingJob
    credits_remaining: int


def _dataset(*, user, data: dict) -> TrainingDataset:
    return dataset_for_training(
        user=user, dataset_id=data.get("dataset_id"), images_data_url=data.get("images_data_url") or ""
    )


def training_quote(*, user, data: dict) -> TrainingQuote:
    """``dry_run``: the price and whether the balance covers it. Validates; charges nothing
    (a ``data:`` URL's images are stored, so that the start can name them)."""
    dataset = _dataset(user=user, data=data)
    options = _options(data=data, dataset=dataset)
    remaining = credits_balance(user=user)
    return TrainingQuote(
        dataset=dataset,
        provider=options["provider"],
        steps=options["steps"],
        cost=options["cost"],
        credits_remaining=remaining,
        sufficient=remaining >= options["cost"],
        estimated_seconds=options["estimated_seconds"],
    )


def _allowance_check(*, user, provider: str) -> None:
    # Plans sell provider trainings, which cost real money upstream; the local trainer costs none
    # and is not counted against the allowance.
    if provider == "local" or not settings.ATELIER_TRAINING_ALLOWANCE_ENABLED:
        return
    plan = plan_for_user(user=user)
    month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = TrainingJob.objects.filter(user=user, created_at__gte=month_start).exclude(provider="local").count()
    if used >= plan.training_allowance:
        raise QuotaExceeded(
            f"Your {plan.name} plan includes {plan.training_allowance} provider trainings a month",
            details="Train with the local provider, or upgrade your plan.",
        )


def training_start(*, user, data: dict, membership=None) -> TrainingOutcome:
    """Holds the quoted credits on the ledger and queues the job, in one transaction (402 when short).

    Only a real start counts against the training rate limit (seed 004: 5 an hour), and only once
    its dataset is found: quotes are cheap, and the page asks for one at every change.
    ``membership``: started as that team (under its policy, paid from its wallet within the
    member's monthly cap; the LoRA it makes is the team's)."""
    team_training_check(membership=membership)
    dataset = _dataset(user=user, data=data)
    user_rate_limit_hit(user=user, group="training", rate=settings.ATELIER_RATE_LIMITS["training"])
    options = _options(data=data, dataset=dataset)
    _allowance_check(user=user, provider=options["provider"])
    now = timezone.now()
    with transaction.atomic():
        job = TrainingJob.objects.create(
            user=user,
            team=membership.team if membership else None,
            dataset=dataset,
            status=Status.QUEUED,
            seed=secrets.randbelow(2**31),
            heartbeat_at=now,
            logs=[{"at": now.isoformat(), "message": f"Queued: {options['steps']} steps on {options['provider']}"}],
            **options,
        )
        reason = f"LoRA training “{job.trigger_word}” hold"
        if membership is None:
            credits_debit(user=user, amount=job.cost, reason=reason)
        else:
            team_wallet_debit(team_id=membership.team_id, member=user, amount=job.cost, reason=reason)
        TrainingEvent.objects.create(job=job, type=TrainingEvent.Type.STATUS, data={"status": Status.QUEUED})
        transaction.on_commit(partial(training_dispatch, job_id=job.pk))
    if membership is not None:
        return TrainingOutcome(job=job, credits_remaining=team_wallet_balance(team_id=membership.team_id))
    return TrainingOutcome(job=job, credits_remaining=credits_balance(user=user))


def training_dispatch(*, job_id) -> None:
    """Sends the job to the training queue (by task name, as every service does)."""
    task_send("training.run", args=[str(job_id)], queue=settings.ATELIER_TRAINING_QUEUE)


def training_refund(*, job_id, amount: int, reason: str) -> int:
    """Gives back ``amount`` of the job's hold, at most once per job whatever races happen."""
    amount = max(0, amount)
    with transaction.atomic():
        won = TrainingJob.objects.filter(pk=job_id, refunded_at__isnull=True, cost__gte=amount).update(
            refunded=amount, refunded_at=timezone.now()
        )
        if not won or amount == 0:
            return 0
        job = TrainingJob.objects.select_related("user").get(pk=job_id)
        if job.team_id is None:
            credits_grant(user=job.user, amount=amount, reason=reason, kind=LedgerEntry.Kind.REFUND)
        else:
            team_wallet_refund(team_id=job.team_id, member=job.user, amount=amount, reason=reason)
    return amount


def unused_credits(job: TrainingJob) -> int:
    """The part of the hold not yet spent: by steps done, rounded in the user's favour."""
    used = math.floor(job.cost * min(job.current_step, job.steps) / max(1, job.steps))
    return job.cost - used


def training_fail(
    *, job_id, error: str, error_type: str = "provider_error", holder: str | None = None, only_if: dict | None = None
) -> bool:
    """Fails the job and refunds its whole hold (nothing was delivered)."""
    with transaction.atomic():
        moved = transition(
            job_id=job_id,
            to=Status.FAILED,
            holder=holder,
            only_if=only_if,
            log=f"Failed: {error}",
            error=error[:2000],
            error_type=error_type,
        )
        if moved:
            job = TrainingJob.objects.get(pk=job_id)
            training_refund(job_id=job_id, amount=job.cost, reason=f"LoRA training “{job.trigger_word}” failed")
    return moved


def training_cancel(*, job: TrainingJob) -> TrainingOutcome:
    """Stops the job (its worker notices at its next step) and refunds the unused part of the hold."""
    if job.status in TERMINAL_STATUSES:
        raise Conflict(f"The training is already {job.status}")
    request_id = job.provider_request_id
    with transaction.atomic():
        moved = transition(job_id=job.pk, to=Status.CANCELLED, log="Cancelled by the owner")
        if not moved:
            job.refresh_from_db()
            raise Conflict(f"The training is already {job.status}")
        job.refresh_from_db()
        amount = unused_credits(job)
        training_refund(job_id=job.pk, amount=amount, reason=f"LoRA training “{job.trigger_word}” cancelled")
    if request_id:
        # Best effort, after the commit: the job is cancelled and refunded whatever the provider says.
        try:
            training_provider(job.provider).cancel(job=job)
        except ApplicationError as exc:
            logger.warning("Could not cancel training %s at %s: %s", job.pk, job.provider, exc.message)
    job.refresh_from_db()
    return TrainingOutcome(job=job, credits_remaining=credits_balance(user=job.user))
