"""Signal receivers that turn what happens elsewhere into webhook events.

The apps below this one announce what happened through signals and never import the webhooks;
``WebhooksConfig.ready()`` imports this module, which connects the receivers.
"""

import sys

from allauth.account.signals import user_signed_up
from celery.signals import task_failure
from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.utils import timezone

from credits.signals import credits_low
from generation.signals import generation_completed
from training.signals import training_completed
from webhooks.services import webhook_event_emit_safely


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


@receiver(generation_completed, dispatch_uid="webhooks.image_generated")
def image_generated(sender, payload=None, webhook_url="", user_id=None, **kwargs) -> None:
    # A generation's own webhook_url is signed with its owner's secret.
    extra = [{"url": webhook_url, "user_id": user_id}] if webhook_url else []
    webhook_event_emit_safely(event="image.generated", payload=payload or {}, extra_targets=extra)


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
