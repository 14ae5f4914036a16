"""Signal receivers that turn what happens elsewhere into webhook events.

The apps below this one announce what happened through signals and never import the webhooks;
``WebhooksConfig.ready()`` imports this module, which connects the receivers.
"""

import sys
from functools import partial

from allauth.account.signals import user_signed_up
from celery.signals import task_failure
from django.core.signals import got_request_exception
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from credits.signals import credits_low
from generation.signals import (
    generation_completed,
    generation_failed,
    generation_log,
    generation_preview,
    generation_started,
)
from generation.webhook_payloads import generation_running, webhook_event_asked
from training.signals import training_completed
from webhooks.models import WebhookEndpoint
from webhooks.selectors import endpoints_cache
from webhooks.services import webhook_event_emit_safely
from webhooks.services.pacing import lines_added, paced_event_emit_safely, paced_events_settle


@receiver(user_signed_up, dispatch_uid="webhooks.user_registered")
def user_registered(sender, request=None, user=None, **kwargs) -> None:
    if user is not None:
        webhook_event_emit_safely(
            event="user.registered",
            payload={"user_id": user.pk, "user_uuid": str(user.uuid), "username": user.username, "email": user.email},
        )


@receiver(credits_low, dispatch_uid="webhooks.credits_low")
def credits_running_low(sender, user_id=None, credits_remaining=None, threshold=None, **kwargs) -> None:
    webhook_event_emit_safely(
        event="credits.low",
        payload={"user_id": user_id, "credits_remaining": credits_remaining, "threshold": threshold},
    )


def _own_url(*, webhook_url: str, user_id, events_filter=None, asked: str = "completed") -> list[dict]:
    """The generation's own ``webhook_url`` as a target, when its filter asks for ``asked``
    (Replicate's name of the event); signed with its owner's secret."""
    if not webhook_url or not webhook_event_asked(events_filter=events_filter, event=asked):
        return []
    return [{"url": webhook_url, "user_id": user_id}]


@receiver(generation_completed, dispatch_uid="webhooks.image_generated")
def image_generated(sender, generation_id=None, payload=None, webhook_url="", user_id=None, **kwargs) -> None:
    paced_events_settle(subject=str(generation_id))
    webhook_event_emit_safely(
        event="image.generated",
        payload=payload or {},
        extra_targets=_own_url(webhook_url=webhook_url, user_id=user_id),
    )


@receiver(generation_failed, dispatch_uid="webhooks.image_failed")
def image_failed(sender, generation_id=None, status="failed", payload=None, webhook_url="", user_id=None, **kwargs):
    paced_events_settle(subject=str(generation_id))
    webhook_event_emit_safely(
        event="image.cancelled" if status == "cancelled" else "image.failed",
        payload=payload or {},
        extra_targets=_own_url(webhook_url=webhook_url, user_id=user_id),
    )


@receiver(generation_started, dispatch_uid="webhooks.image_started")
def image_started(sender, generation_id=None, payload=None, webhook_url="", user_id=None, events_filter=None, **kw):
    paced_event_emit_safely(
        event="image.started",
        subject=str(generation_id),
        data=payload or {},
        extra_targets=_own_url(webhook_url=webhook_url, user_id=user_id, events_filter=events_filter, asked="start"),
    )


@receiver(generation_log, dispatch_uid="webhooks.image_log")
def image_log(
    sender, generation_id=None, message="", webhook_url="", user_id=None, team_id=None, events_filter=None, **kwargs
):
    paced_event_emit_safely(
        event="image.log",
        subject=str(generation_id),
        data={
            "user_id": user_id,
            "team_id": team_id,
            "generation_id": str(generation_id),
            "status": "processing",
            "lines": [{"at": _now(), "message": message}],
        },
        extra_targets=_own_url(webhook_url=webhook_url, user_id=user_id, events_filter=events_filter, asked="logs"),
        merge=lines_added,
        live=partial(generation_running, generation_id=generation_id),
    )


@receiver(generation_preview, dispatch_uid="webhooks.image_preview")
def image_preview(
    sender, generation_id=None, preview=None, webhook_url="", user_id=None, team_id=None, events_filter=None, **kw
):
    paced_event_emit_safely(
        event="image.preview",
        subject=str(generation_id),
        data={
            "user_id": user_id,
            "team_id": team_id,
            "generation_id": str(generation_id),
            "status": "processing",
            "preview": preview,
        },
        extra_targets=_own_url(webhook_url=webhook_url, user_id=user_id, events_filter=events_filter, asked="preview"),
        live=partial(generation_running, generation_id=generation_id),
    )


@receiver(training_completed, dispatch_uid="webhooks.training_completed")
def training_done(sender, payload=None, **kwargs) -> None:
    webhook_event_emit_safely(event="training.completed", payload=payload or {})


def _now() -> str:
    return timezone.now().isoformat().replace("+00:00", "Z")


@receiver(got_request_exception, dispatch_uid="webhooks.request_error")
def request_error(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    webhook_event_emit_safely(
        event="system.error",
        payload={
            "error_type": type(exc).__name__ if exc else "server_error",
            "message": str(exc)[:500] if exc else "Unhandled error",
            "timestamp": _now(),
            "path": getattr(request, "path", ""),
            "request_id": getattr(request, "request_id", None),
        },
    )


@task_failure.connect(dispatch_uid="webhooks.task_error")
def task_error(sender=None, exception=None, **kwargs) -> None:
    name = getattr(sender, "name", "") or ""
    if name.startswith("webhooks."):
        return  # a failing delivery must not announce itself in a loop
    webhook_event_emit_safely(
        event="system.error",
        payload={
            "error_type": type(exception).__name__ if exception else "task_failure",
            "message": str(exception)[:500],
            "timestamp": _now(),
            "task": name,
        },
    )


post_save.connect(endpoints_cache.clear, sender=WebhookEndpoint, dispatch_uid="webhooks-endpoints-cache-save")
post_delete.connect(endpoints_cache.clear, sender=WebhookEndpoint, dispatch_uid="webhooks-endpoints-cache-delete")
