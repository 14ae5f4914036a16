"""What a generation's live streams hear: its stored events, announced when they commit, and
the positions in its provider's queue, announced when that queue moves.

The events are rows first (``GenerationEvent``, stored by the job kernel, ``core.jobs``); these
messages only tell the streams that follow the generation (``generation/event_stream.py``), in
any web process, what was stored.

Queue positions are computed, not stored. Whoever moves a queue (a claim, a cancel or failure
of a queued job, a job sent back to its queue) computes the positions of the jobs waiting in it
once, when the move commits, and publishes them in one message on the queue's channel; the
streams of waiting jobs read theirs from it instead of each counting the jobs ahead of it.
"""

from functools import partial

from django.conf import settings
from django.db import transaction

from core import jobs, pubsub
from generation.models import TERMINAL_STATUSES, GenerationEvent, Status
from generation.previews_cache import preview_cache_delete
from generation.selectors import generation_queue_waiting


def generation_channel(generation_id) -> str:
    return f"generation:{generation_id}"


def queue_channel(provider: str) -> str:
    """The moves of one provider's queue: ``{"positions": {generation id: jobs ahead of it}}``."""
    return f"generations:queue:{provider}"


def generation_events_publish(*, generation_id, events, leaves_queue: bool = False) -> None:
    """Announces stored ``GenerationEvent`` rows once their transaction commits.

    ``leaves_queue``: the generation left its queue (or may have: a failure or cancel does not
    say where from), so the jobs behind it moved. A status event ``in_queue`` puts it back in
    the queue. Either way the queue's positions follow its events, in that order.
    """
    pubsub.publish_on_commit(channel=generation_channel(generation_id), message=jobs.event_message(events))
    if any(e.type == GenerationEvent.Type.STATUS and e.data.get("status") in TERMINAL_STATUSES for e in events):
        # Its in-progress picture is of no use once it has ended: the shared cache lets it go.
        transaction.on_commit(partial(preview_cache_delete, generation_id=generation_id), robust=True)
    enters_queue = any(
        e.type == GenerationEvent.Type.STATUS and e.data.get("status") == Status.IN_QUEUE for e in events
    )
    # A new generation is saved straight into its queue with its first event, without a
    # message: it joins at the end, so nobody moves, and its own stream reads its position
    # when it opens (a generation cannot be watched before it exists).
    if leaves_queue or enters_queue:
        transaction.on_commit(partial(generation_queue_positions_publish, generation_id=generation_id), robust=True)


def generation_queue_positions_publish(*, generation_id) -> None:
    """Publishes the positions of the first waiting jobs of the queue ``generation_id`` is (or
    was) in: one query, one message, however many streams follow the queue.

    Jobs past ``ATELIER_QUEUE_POSITIONS_PUSHED`` are left out (their streams keep the position
    they read when they opened) until they move into that many; an empty queue has nobody to tell.
    """
    provider, waiting = generation_queue_waiting(
        generation_id=generation_id, limit=settings.ATELIER_QUEUE_POSITIONS_PUSHED
    )
    if provider is None:
        return
    positions = {str(pk): position for position, pk in enumerate(waiting)}
    pubsub.publish(channel=queue_channel(provider), message={"positions": positions})


def generation_queue_position_publish(*, generation_id, position: int | None) -> None:
    """A hosted provider's own queue position (not stored as an event), once it commits."""
    pubsub.publish_on_commit(channel=generation_channel(generation_id), message={"queue_position": position})
