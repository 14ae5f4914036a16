"""What a generation's live streams hear: its stored events, announced when they commit.

The events are rows first (``GenerationEvent``); these messages only tell the streams that
follow the generation (``generation/event_stream.py``), in any web process, what was stored.
"""

from ops import pubsub

# Hears of every job leaving its queue: the positions of the jobs behind it change.
QUEUE_CHANNEL = "generations:queue"


def generation_channel(generation_id) -> str:
    return f"generation:{generation_id}"


def generation_events_publish(*, generation_id, events, leaves_queue: bool = False) -> None:
    """Announces stored ``GenerationEvent`` rows once their transaction commits; ``leaves_queue``
    also tells the streams of queued jobs that the queue moved."""
    message = {"events": [{"id": e.pk, "type": e.type, "data": e.data} for e in events]}
    pubsub.publish_on_commit(channel=generation_channel(generation_id), message=message)
    if leaves_queue:
        pubsub.publish_on_commit(channel=QUEUE_CHANNEL, message={"moved": str(generation_id)})


def generation_queue_position_publish(*, generation_id, position: int | None) -> None:
    """A hosted provider's own queue position (not stored as an event), once it commits."""
    pubsub.publish_on_commit(channel=generation_channel(generation_id), message={"queue_position": position})
