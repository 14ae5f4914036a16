"""What a generation tells the outside world when it completes: the body of the outbound
``image.generated`` webhook, announced by the ``generation_completed`` signal (generation sits
below the webhooks app and never imports it; the webhooks connect a receiver), and the check of
a generation's ``webhook_url`` when it is asked for."""

import logging

from django.conf import settings
from django.db import transaction

from core.errors import UrlRefused, ValidationFailed
from core.url_fetch import url_target_check
from generation.models import Generation
from generation.signals import generation_completed

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


# The events a generation's ``webhook_url`` can ask for, in Replicate's names. Only
# ``completed`` (delivered as ``image.generated``) is sent today; ``start`` and ``logs`` are
# accepted and kept so that a client written for Replicate is not refused, and so that the
# filter already holds when they are sent.
WEBHOOK_EVENTS = ("start", "completed", "logs")
WEBHOOK_EVENT_COMPLETED = "completed"


def webhook_events_filter_accepted(*, events: list[str] | None) -> list[str] | None:
    """A generation's ``webhook_events_filter`` as stored: None (every event) when none is
    given, else the named events in their canonical order with ``completed`` always among
    them, the terminal event a client cannot opt out of. (Unknown names are the serializer's 400.)"""
    if events is None:
        return None
    asked = {*events, WEBHOOK_EVENT_COMPLETED}
    return [event for event in WEBHOOK_EVENTS if event in asked]


def webhook_event_wanted(*, generation: Generation, event: str) -> bool:
    """Whether the generation's ``webhook_url`` is to receive ``event``."""
    wanted = generation.webhook_events_filter
    return event == WEBHOOK_EVENT_COMPLETED or wanted is None or event in wanted


def generation_webhook_payload(*, generation: Generation) -> dict:
    """``image.generated``'s data: the generation, its owner and its images with their download URLs."""
    assets = list(generation.assets.order_by("created_at", "id").values("id", "type", "width", "height", "format"))
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    images = [
        {**asset, "id": str(asset["id"]), "url": f"{base}/api/gallery/{asset['id']}/download"} for asset in assets
    ]
    return {
        "user_id": generation.user_id,
        "user_uuid": str(generation.user.uuid),
        "generation_id": str(generation.pk),
        "image_id": images[0]["id"] if images else None,
        "images": images,
        "prompt": generation.prompt,
        "model": generation.model_id,
        "status": generation.status,
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
