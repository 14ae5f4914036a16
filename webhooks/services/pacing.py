"""A generation's in-progress events, paced: at most one message per event type per generation
per ``ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS``, and the terminal event after what is still due.

An event that comes within the interval of the last message of its type does not make one of its
own: it goes into the next message, due when the interval has run out. That message, until it
goes, takes in every event that follows: the newest one wins (``image.preview``,
``image.started``), or the log lines are added up (``image.log``), so nothing is lost but
pictures nobody would see. It goes out through the delivery machinery like any other (signing,
retries, the URL guard): its deliveries are due at ``send_at``, sent by a delayed task and, should
that be lost, by the sweep.

The terminal event (``image.generated``, ``image.failed``, ``image.cancelled``) is never paced.
Before it is emitted, the generation's messages not sent yet are settled: log lines and a start
go out at once (before the terminal event), a picture is dropped (the result supersedes it).
"""

import json
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookMessage
from webhooks.selectors import events_named_by_endpoints
from webhooks.services.delivery import deliveries_enqueue
from webhooks.services.emit import deliveries_create, event_targets, message_body, message_create

logger = logging.getLogger(__name__)

Merge = Callable[[dict, dict], dict]
LOG_EVENT, PREVIEW_EVENT = "image.log", "image.preview"
FREQUENT_EVENTS = frozenset({LOG_EVENT, PREVIEW_EVENT})


def newest_wins(older: dict, newer: dict) -> dict:
    return newer


def lines_added(older: dict, newer: dict) -> dict:
    """``image.log``: the lines of both, in the order they came."""
    return {**newer, "lines": [*older.get("lines", []), *newer.get("lines", [])]}


def _interval() -> timedelta:
    return timedelta(milliseconds=settings.ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS)


def _untouched(message: WebhookMessage) -> bool:
    """Whether none of the message's deliveries has been claimed or tried. The UPDATE locks them
    until the caller's transaction ends, so a worker's claim waits for the new body."""
    deliveries = WebhookDelivery.objects.filter(message=message)
    total = deliveries.count()
    held = deliveries.filter(status=WebhookDelivery.Status.PENDING, attempts=0, claim_token__isnull=True).update(
        claim_token=None
    )
    return total > 0 and held == total


def _take_in(message: WebhookMessage, *, data: dict, merge: Merge) -> bool:
    """Adds ``data`` to a message that has not gone yet; False when it has started to go."""
    if not _untouched(message):
        return False
    older = json.loads(message.body)["data"]
    message.body = message_body(event=message.event, data=merge(older, data))
    message.save(update_fields=["body"])
    return True


def _one_at_a_time(key: str) -> None:
    """Holds off the other emitters of ``key`` until the caller's transaction ends, the first
    message of a generation's event type included (there is no row yet to lock). PostgreSQL's
    transaction-level advisory lock; SQLite runs one writing transaction at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def paced_event_emit(
    *,
    event: str,
    subject: str,
    data: dict,
    extra_targets: list[dict] | None = None,
    merge: Merge = newest_wins,
    live: Callable[[], bool] | None = None,
) -> WebhookMessage | None:
    """Emits a generation's in-progress ``event`` (``subject``: the generation's id) to the
    endpoints subscribed to it and ``extra_targets``, paced as the module says. The message that
    carries it (new, or the waiting one it joined), or None when no one listens or, asked only
    then, ``live()`` says the subject has ended (its terminal event is the last one sent)."""
    # Only the endpoints that name an in-progress event receive it; for the many (a line, a
    # picture) a process-wide list of the named events spares the endpoints' query.
    unnamed = event in FREQUENT_EVENTS and event not in events_named_by_endpoints()
    targets = ([] if unnamed else event_targets(event=event)) + (extra_targets or [])
    if not targets or (live is not None and not live()):
        return None
    with transaction.atomic():
        _one_at_a_time(f"webhook-pacing:{subject}:{event}")
        now = timezone.now()
        last = (
            WebhookMessage.objects.select_for_update()
            .filter(subject=subject, event=event, send_at__isnull=False)
            .order_by("-send_at")
            .first()
        )
        if last is not None and last.send_at > now and _take_in(last, data=data, merge=merge):
            return last
        send_at = now if last is None else max(now, last.send_at + _interval())
        message = message_create(event=event, data=data, subject=subject, send_at=send_at)
        deliveries_create(message=message, targets=targets, at=send_at)
        return message


def paced_event_emit_safely(**kwargs) -> None:
    """For signal receivers: an event that cannot be recorded must not break what caused it."""
    try:
        paced_event_emit(**kwargs)
    except Exception:
        logger.warning("Could not emit the %s webhook event", kwargs.get("event"), exc_info=True)


def paced_events_settle(*, subject: str) -> None:
    """Before the terminal event: the subject's messages that have not gone yet (waiting for
    their time, or due and not yet taken by a worker) are settled: a picture is dropped (the
    result supersedes it), log lines and a start are sent now. Never raises."""
    try:
        with transaction.atomic():
            now = timezone.now()
            unsent = WebhookDelivery.objects.filter(
                message__subject=subject, status=WebhookDelivery.Status.PENDING, attempts=0, claim_token__isnull=True
            )
            due = []
            for message in WebhookMessage.objects.select_for_update().filter(pk__in=unsent.values("message_id")):
                if not _untouched(message):
                    continue  # on its way already
                if message.event == PREVIEW_EVENT:
                    message.delete()
                else:
                    WebhookMessage.objects.filter(pk=message.pk).update(send_at=min(message.send_at, now))
                    due += list(message.deliveries.values_list("pk", flat=True))
            WebhookDelivery.objects.filter(pk__in=due, next_attempt_at__gt=now).update(next_attempt_at=now)
            transaction.on_commit(lambda: deliveries_enqueue(due))
    except Exception:
        logger.warning("Could not settle the waiting webhook events of %s", subject, exc_info=True)
