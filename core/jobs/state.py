"""A job's state machine and its stored events, generic over the models an app hands it.

Every transition is a compare-and-swap UPDATE (``WHERE status IN allowed_from``, and the lease
when the caller holds one), so of two workers, a cancel, a webhook and a recovery pass racing on
one job, exactly one wins each move. The winner stores its events (a log line, then the status)
in the same transaction; they are announced to the job's live streams when it commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from core import pubsub


class IllegalTransition(Exception):
    pass


@dataclass(frozen=True)
class JobKind:
    """One kind of job: its model, its event model and the rules of its moves.

    ``job_field``: the event model's column naming the job (``generation_id``, ``job_id``).
    ``allowed_from``: for each status, the statuses it may follow. ``status_keys``: the fields
    of a move that its status event repeats (the error, the progress).
    """

    model: type[models.Model]
    event_model: type[models.Model]
    job_field: str
    allowed_from: Mapping[str, frozenset[str]]
    terminal_statuses: frozenset[str]
    channel: Callable[[Any], str]
    status_keys: tuple[str, ...] = ("error", "error_type", "progress")
    lease_field: str = "lease"
    status_event: str = "status"
    log_event: str = "log"
    # What a stream reads of the job when it opens.
    read_fields: tuple[str, ...] = ("pk", "status")

    def event(self, job_id, event_type: str, data: dict) -> models.Model:
        return self.event_model(**{self.job_field: job_id, "type": event_type, "data": data})


def log_line(message: str, *, at=None) -> dict:
    """A line for a job's log (and its ``log`` event)."""
    return {"at": (at or timezone.now()).isoformat(), "message": message}


def event_message(events: Iterable[models.Model]) -> dict:
    return {"events": [{"id": e.pk, "type": e.type, "data": e.data} for e in events]}


def events_publish(kind: JobKind, *, job_id, events: list[models.Model]) -> None:
    """Announces stored events to the job's streams once their transaction commits."""
    pubsub.publish_on_commit(channel=kind.channel(job_id), message=event_message(events))


Publish = Callable[..., None]


def events_store(kind: JobKind, *, job_id, events: list[tuple[str, dict]], publish: Publish | None = None) -> list:
    """Stores events (``(type, data)``) in the caller's transaction and announces them on commit.

    ``publish(job_id=…, events=…)`` replaces the plain announcement (an app that tells more,
    such as the moves of a queue)."""
    rows = kind.event_model.objects.bulk_create([kind.event(job_id, *event) for event in events])
    if publish is None:
        events_publish(kind, job_id=job_id, events=rows)
    else:
        publish(job_id=job_id, events=rows)
    return rows


def transition(
    kind: JobKind,
    *,
    job_id,
    to: str,
    fields: dict,
    log: dict | None = None,
    holder: str | None = None,
    only_if: dict | None = None,
    publish: Publish | None = None,
) -> list | None:
    """Moves the job to ``to`` if its status allows it (and the lease ``holder`` still holds it,
    and the row matches ``only_if``), writing ``fields`` in the same UPDATE.

    Returns the events it stored (``log``'s line first, then the status, which stays the last
    event), or None when it did not move. ``publish`` is called with ``to`` as well.
    """
    if to not in kind.allowed_from:
        raise IllegalTransition(f"No transition leads to {to!r}")
    query = kind.model.objects.filter(pk=job_id, status__in=kind.allowed_from[to])
    if holder is not None:
        query = query.filter(**{kind.lease_field: holder})
    if only_if:
        query = query.filter(**only_if)
    # No savepoint: an UPDATE that matches nothing raises nothing, and an error in either
    # statement dooms the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        if not query.update(status=to, **fields):
            return None
        data = {"status": to}
        for key in kind.status_keys:
            if key in fields:
                data[key] = fields[key]
        events = [(kind.log_event, log)] if log is not None else []
        events.append((kind.status_event, data))
        rows = kind.event_model.objects.bulk_create([kind.event(job_id, *event) for event in events])
        if publish is None:
            events_publish(kind, job_id=job_id, events=rows)
        else:
            publish(job_id=job_id, events=rows, to=to)
    return rows


def record(
    kind: JobKind, *, job_id, where: dict, fields: dict, events: list[tuple[str, dict]], publish: Publish | None = None
) -> bool:
    """Writes ``fields`` to the job where the row matches ``where`` (its status, its lease), and
    stores ``events`` only if it did: one UPDATE, one commit. True when the row matched."""
    with transaction.atomic(savepoint=False):
        updated = kind.model.objects.filter(pk=job_id, **where).update(**fields)
        if updated and events:
            events_store(kind, job_id=job_id, events=events, publish=publish)
    return bool(updated)


def lease_new() -> str:
    """A worker's claim on a job: its later writes match it, so a worker that lost the job
    (recovered after it stalled) cannot write."""
    return uuid.uuid4().hex


def claim(kind: JobKind, *, job_id, to: str, fields: dict, log: dict | None = None) -> str | None:
    """Moves the job to ``to`` under a fresh lease; the lease, or None when someone else has it."""
    lease = lease_new()
    moved = transition(kind, job_id=job_id, to=to, fields={**fields, kind.lease_field: lease}, log=log)
    return lease if moved is not None else None
