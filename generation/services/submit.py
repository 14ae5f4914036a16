"""The one way a generation is asked for.

``POST /api/generate`` and every seed route that makes images validate their request into the
canonical parameters (``GenerateInputSerializer``), call ``generation_submit`` and shape its
answer: the routes differ only in their request and response shapes. This function owns what
they must all do alike: a remix's settings (``generation_remix_apply``), the model, the
per-model and group rate limits, the quota and the charge (``generation_create``), the
collection, the ``Idempotency-Key``, the wait, and what a job that failed means for the answer
(``generation_failure``).
"""

import time
from dataclasses import dataclass

from django.conf import settings

from core.errors import ApplicationError, ErrorType, ProviderError, ProviderUnavailable, ValidationFailed
from core.throttling import user_rate_limit_hit
from credits.selectors import credits_balance
from credits.team_selectors import team_wallet_balance
from generation.models import TERMINAL_STATUSES, Api, Generation, Status
from generation.selectors import generation_get, generation_wait
from generation.services.dispatch import queue_waiting
from generation.services.idempotency import idempotent_create, request_fingerprint
from generation.services.lifecycle import generation_create, generation_model_resolve
from generation.services.remix import generation_remix_apply
from teams.policy import team_model_check


@dataclass(frozen=True)
class Submitted:
    """A submitted generation as the answer should show it."""

    generation: Generation
    credits_remaining: int
    # Jobs ahead of it in its provider's queue when it was queued, as the broker counts them
    # (None: not asked, or the broker cannot say; reads count the queued generations instead).
    queue_position: int | None
    # Seconds from the call to the answer.
    elapsed: float

    @property
    def finished(self) -> bool:
        return self.generation.status in TERMINAL_STATUSES

    @property
    def completed(self) -> bool:
        return self.generation.status == Status.COMPLETED


def generation_submit(
    *,
    user,
    data: dict,
    wait: bool,
    idempotency_key: str | None = None,
    timeout: float | None = None,
    api: str = Api.ATELIER,
    end_user: str = "",
    team=None,
) -> Submitted:
    """Creates (and charges) the generation the canonical ``data`` asks for; with ``wait``, waits
    for it to end within ``timeout`` seconds (``ATELIER_SYNC_TIMEOUT_SECONDS`` unless given; a
    ``Prefer: wait=N`` header gives it), holding no transaction. ``api``: the API the request
    came by (``Generation.Api``), which the gallery shows; ``end_user``: the end user the calling
    app named (OpenAI's ``user``), kept for operators. ``team``: made as that team (the user
    is a member), under its policy and paid from its wallet within the member's caps."""
    started = time.monotonic()
    # A remix (from_asset, remix_of) becomes the full request it stands for, before anything else.
    data = generation_remix_apply(user=user, data=data)
    model = generation_model_resolve(ref=data.get("model"))
    # The team's allow-list refuses before anything is counted or charged.
    team_model_check(team=team, model_id=model.pk)

    waiting = created = None

    def create():
        nonlocal waiting, created
        # Only new work counts towards the rate limits; a replayed key is not new work.
        user_rate_limit_hit(user=user, group="generation", rate=settings.ATELIER_RATE_LIMITS["generation"])
        if model.rate_limit:
            user_rate_limit_hit(user=user, group=f"model:{model.pk}", rate=model.rate_limit)
        if not wait:
            # Asked before its message is sent: the messages waiting then are the jobs ahead of it.
            waiting = queue_waiting(model.provider)
        created = generation_create(user=user, data=data, model=model, api=api, end_user=end_user, team=team)
        return created.generation.pk

    if idempotency_key is None:
        generation_id = create()
    else:
        generation_id = idempotent_create(
            user=user, key=idempotency_key, fingerprint=request_fingerprint(data=data), create=create
        )
    if created is not None and not wait:
        # A new job answered at once: as it was saved, with the balance its debit left (a
        # worker may have taken it meanwhile; the client follows it from here).
        return Submitted(
            generation=created.generation,
            credits_remaining=created.balance_after,
            queue_position=waiting,
            elapsed=time.monotonic() - started,
        )
    if wait:
        generation = generation_wait(
            user=user,
            generation_id=generation_id,
            timeout=settings.ATELIER_SYNC_TIMEOUT_SECONDS if timeout is None else timeout,
        )
    else:
        generation = generation_get(user=user, generation_id=generation_id)
    return Submitted(
        generation=generation,
        credits_remaining=credits_balance(user=user) if team is None else team_wallet_balance(team_id=team.pk),
        queue_position=None,
        elapsed=time.monotonic() - started,
    )


def generation_failure(generation: Generation) -> ApplicationError:
    """The error that tells a waiting client why its generation ended without images (its
    credits were refunded): the provider's refusal of the input is the client's 400, a busy or
    unreachable provider a 503, anything else the provider's failure, a 502."""
    if generation.error_type == ErrorType.VALIDATION_ERROR:
        return ValidationFailed(generation.error, details=generation.error_details)
    if generation.error_type == ErrorType.PROVIDER_UNAVAILABLE:
        return ProviderUnavailable(details=generation.error)
    return ProviderError("Image generation error", details=generation.error or f"Generation {generation.status}")
