"""What a generation tells the outside world as it runs: the data of the outbound ``image.*``
webhooks, announced by the signals of generation/signals.py once the change they tell of has
committed (generation sits below the webhooks app and never imports it; the webhooks connect
receivers), which of them a generation's ``webhook_url`` asks for (``webhook_events_filter``),
and the check of that URL when it is asked for."""

import functools
import logging

from django.conf import settings
from django.db import transaction

from core.errors import UrlRefused, ValidationFailed
from core.url_fetch import url_target_check
from generation.models import TERMINAL_STATUSES, Generation, Status
from generation.signals import generation_completed, generation_failed, generation_log, generation_started

logger = logging.getLogger(__name__)


def webhook_url_accepted(*, url: str | None) -> str:
    """A generation's ``webhook_url``, checked by the URL guard when it is asked for (400
    ``webhook_url`` if refused; the webhooks check it again at each delivery); "" when none is given."""
    if not url:
        return ""
    try:
        url_target_check(url)
    except UrlRefused as exc:
        raise ValidationFailed("The webhook_url was refused", details={"webhook_url": [exc.message]}) from exc
    return url


# The events a generation's ``webhook_url`` can ask for, in Replicate's names (its ``output``
# is ``preview`` here), in their canonical order. ``completed`` is the terminal event, delivered
# as ``image.generated``, ``image.failed`` or ``image.cancelled``: always sent, whatever the filter.
WEBHOOK_EVENTS = ("start", "preview", "logs", "completed")
WEBHOOK_EVENT_COMPLETED = "completed"


def webhook_events_filter_accepted(*, events: list[str] | None) -> list[str] | None:
    """A generation's ``webhook_events_filter`` as stored: None when none is given (the terminal
    event only), else the named events in their canonical order with ``completed`` always among
    them, the terminal event a client cannot opt out of. (Unknown names are the serializer's 400.)"""
    if events is None:
        return None
    asked = {*events, WEBHOOK_EVENT_COMPLETED}
    return [event for event in WEBHOOK_EVENTS if event in asked]


def webhook_event_asked(*, events_filter: list[str] | None, event: str) -> bool:
    """Whether a generation's ``webhook_url`` with this ``webhook_events_filter`` is to receive
    ``event`` (one of WEBHOOK_EVENTS). Without a filter only the terminal event is sent: a
    receiver written for ``image.generated`` alone never meets the in-progress events."""
    return event == WEBHOOK_EVENT_COMPLETED or (events_filter is not None and event in events_filter)


def webhook_event_wanted(*, generation: Generation, event: str) -> bool:
    """Whether the generation's ``webhook_url`` is to receive ``event``."""
    return webhook_event_asked(events_filter=generation.webhook_events_filter, event=event)


def _when(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def generation_webhook_facts(*, generation: Generation) -> dict:
    """What every ``image.*`` event's data says of its generation."""
    return {
        "user_id": generation.user_id,
        "user_uuid": str(generation.user.uuid),
        # The team it was made in (null: personal), so an operator's endpoint can tell spaces apart.
        "team_id": str(generation.team_id) if generation.team_id else None,
        "generation_id": str(generation.pk),
        "prompt": generation.prompt,
        "model": generation.model_id,
        "status": generation.status,
    }


def generation_webhook_payload(*, generation: Generation) -> dict:
    """``image.generated``'s data: the generation, its owner and its images with their download URLs."""
    assets = list(generation.assets.order_by("created_at", "id").values("id", "type", "width", "height", "format"))
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    images = [
        {**asset, "id": str(asset["id"]), "url": f"{base}/api/gallery/{asset['id']}/download"} for asset in assets
    ]
    return {
        **generation_webhook_facts(generation=generation),
        "image_id": images[0]["id"] if images else None,
        "images": images,
    }


def generation_started_payload(*, generation: Generation) -> dict:
    """``image.started``'s data: the generation as its provider work starts."""
    return {**generation_webhook_facts(generation=generation), "started_at": _when(generation.started_at)}


def generation_ended_payload(*, generation: Generation) -> dict:
    """``image.failed`` / ``image.cancelled``'s data: the generation and why it ended without images."""
    return {
        **generation_webhook_facts(generation=generation),
        "error": generation.error,
        "error_type": generation.error_type,
        "finished_at": _when(generation.finished_at),
    }


def _completed_send(generation_id) -> None:
    try:
        generation = Generation.objects.select_related("user").filter(pk=generation_id).first()
        if generation is None:
            return
        generation_completed.send(
            sender=Generation,
            generation_id=generation.pk,
            user_id=generation.user_id,
            payload=generation_webhook_payload(generation=generation),
            webhook_url=generation.webhook_url
            if webhook_event_wanted(generation=generation, event=WEBHOOK_EVENT_COMPLETED)
            else "",
        )
    except Exception:
        # Telling others is a courtesy: it must never undo or break the completion itself.
        logger.warning("Could not announce the completion of generation %s", generation_id, exc_info=True)


def generation_completed_send(*, generation_id) -> None:
    """Sends ``generation_completed`` once the completing transaction commits; never raises."""
    transaction.on_commit(lambda: _completed_send(generation_id))


def _one(queryset):
    """The one row of a query by primary key, or None (no ORDER BY: there is nothing to order)."""
    return next(iter(queryset.order_by()), None)


def _started_send(generation_id) -> None:
    try:
        generation = _one(Generation.objects.select_related("user").filter(pk=generation_id))
        # A retry (back in the queue, then claimed again) is the same generation starting once.
        if generation is None or generation.status != Status.PROCESSING or generation.attempts != 1:
            return
        generation_started.send(
            sender=Generation,
            generation_id=generation.pk,
            user_id=generation.user_id,
            payload=generation_started_payload(generation=generation),
            webhook_url=generation.webhook_url,
            events_filter=generation.webhook_events_filter,
        )
    except Exception:
        logger.warning("Could not announce the start of generation %s", generation_id, exc_info=True)


def generation_started_send(*, generation_id) -> None:
    """Sends ``generation_started`` once the claim that started the generation commits, on its
    first start only; never raises."""
    transaction.on_commit(lambda: _started_send(generation_id))


def _ended_send(generation_id) -> None:
    try:
        generation = _one(Generation.objects.select_related("user").filter(pk=generation_id))
        if generation is None or generation.status not in (Status.FAILED, Status.CANCELLED):
            return
        generation_failed.send(
            sender=Generation,
            generation_id=generation.pk,
            user_id=generation.user_id,
            status=generation.status,
            payload=generation_ended_payload(generation=generation),
            webhook_url=generation.webhook_url,
        )
    except Exception:
        logger.warning("Could not announce the end of generation %s", generation_id, exc_info=True)


def generation_ended_send(*, generation_id) -> None:
    """Sends ``generation_failed`` once the move to failed or cancelled commits; never raises.
    The move happens once (state.transition), so the announcement does too."""
    transaction.on_commit(lambda: _ended_send(generation_id))


@functools.lru_cache(maxsize=1024)
def _announced_facts(generation_id: str) -> tuple:
    """What a log line's announcement says of its generation, none of which changes once it is
    made: read once per process (the lines of a run come from one worker), not once per line."""
    return (
        Generation.objects.filter(pk=generation_id)
        .order_by()
        .values_list("user_id", "team_id", "webhook_url", "webhook_events_filter")
        .get()
    )


def generation_running(*, generation_id) -> bool:
    """Whether the generation has not ended: a line or a picture reported after the end (a late
    provider report) is kept on the generation only, the terminal event being the last one sent.
    For the receivers of the in-progress signals, which ask only when someone listens."""
    return Generation.objects.filter(pk=generation_id).exclude(status__in=TERMINAL_STATUSES).exists()


def _log_send(generation_id, message: str) -> None:
    try:
        user_id, team_id, webhook_url, events_filter = _announced_facts(str(generation_id))
        generation_log.send(
            sender=Generation,
            generation_id=generation_id,
            user_id=user_id,
            team_id=str(team_id) if team_id else None,
            message=message,
            webhook_url=webhook_url,
            events_filter=list(events_filter) if events_filter is not None else None,
        )
    except Exception:
        logger.warning("Could not announce a log line of generation %s", generation_id, exc_info=True)


def generation_log_send(*, generation_id, message: str) -> None:
    """Sends ``generation_log`` once the transaction that recorded the line commits; never raises."""
    transaction.on_commit(lambda: _log_send(generation_id, message))
