"""Signing secrets: an endpoint's (given or generated), each user's for the ``webhook_url``s they
ask for, their rotation with an overlap, and the secrets that sign a message now."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import ValidationFailed
from webhooks.models import UserWebhookSecret
from webhooks.signing import secret_new, secret_problem


def endpoint_secret_or_new(*, secret: str | None) -> str:
    """``secret`` when it is a usable Standard Webhooks secret (400 ``secret`` if not), a new one
    when none is given."""
    if not secret:
        return secret_new()
    problem = secret_problem(secret)
    if problem:
        raise ValidationFailed(details={"secret": [problem]})
    return secret


def secret_rotate(*, holder, secret: str | None, now: datetime) -> None:
    """A new secret on ``holder`` (an endpoint or a user's secret); the old one keeps signing for
    ``ATELIER_WEBHOOK_SECRET_ROTATION_HOURS``. The caller saves."""
    holder.previous_secret = holder.secret
    holder.previous_secret_expires_at = now + timedelta(hours=settings.ATELIER_WEBHOOK_SECRET_ROTATION_HOURS)
    holder.secret = endpoint_secret_or_new(secret=secret)


def signing_secrets(*, holder, now: datetime) -> list[str]:
    """The secrets that sign a message sent now: the current one, and the previous one while
    its overlap lasts (the message then carries two signatures)."""
    keys = [holder.secret]
    if holder.previous_secret and holder.previous_secret_expires_at and holder.previous_secret_expires_at > now:
        keys.append(holder.previous_secret)
    return keys


def user_webhook_secret(*, user) -> UserWebhookSecret:
    """The user's secret for per-request ``webhook_url``s, made on first use."""
    holder = UserWebhookSecret.objects.filter(user=user).first()
    if holder is None:
        holder, _ = UserWebhookSecret.objects.get_or_create(user=user, defaults={"secret": secret_new()})
    return holder


def user_webhook_secret_rotate(*, user) -> UserWebhookSecret:
    holder = user_webhook_secret(user=user)
    now = timezone.now()
    secret_rotate(holder=holder, secret=None, now=now)
    holder.rotated_at = now
    holder.save()
    return holder
