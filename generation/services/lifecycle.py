"""Creating a generation and every way it can end: complete, fail, cancel; and what operators
do after: refund it, retry it."""

import dataclasses
import logging
import secrets
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.selectors import user_preference
from catalog.models import AIModel
from catalog.selectors import model_get, model_unavailable_reason, setting_value
from core.errors import Conflict, ErrorType, ProviderUnavailable, ValidationFailed
from credits.models import LedgerEntry
from credits.quotas import daily_generation_quota, daily_generations_refuse
from credits.selectors import credits_balance, credits_cost
from credits.services import credits_refund_generation
from credits.team_selectors import team_wallet_balance
from gallery.provenance import signing_enabled
from gallery.selectors import collection_get
from gallery.services import asset_create
from generation import providers
from generation.inputs.kinds import IMAGE_KINDS
from generation.inputs.services import generation_inputs_prepare, generation_inputs_store
from generation.models import TERMINAL_STATUSES, Api, Generation, Status
from generation.prompts import prompt_prepare_for_generation
from generation.provenance import generation_input_image, generation_provenance
from generation.providers import ProviderOutput
from generation.selectors import generation_count_on
from generation.services.dispatch import generation_dispatch
from generation.services.remix import generation_remix_apply
from generation.services.submission import generation_save_charged
from generation.state import transition
from generation.validation import generation_spec_build
from generation.webhook_payloads import (
    generation_completed_send,
    webhook_events_filter_accepted,
    webhook_url_accepted,
)
from teams.policy import team_model_check
from teams.selectors import membership_find

logger = logging.getLogger(__name__)


def generation_model_resolve(*, ref: str | None) -> AIModel:
    """The model a request names (id or alias), or the configured default; 400 if unknown."""
    ref = ref or setting_value(name="default_model") or settings.ATELIER_DEFAULT_MODEL
    model = model_get(ref=ref)
    if model is None:
        raise ValidationFailed("Invalid model selected", details={"model": [f"Unknown model '{ref}'."]})
    return model


def generation_quote(*, user, data: dict, model: AIModel | None = None, team=None) -> dict:
    """``dry_run``: what the request would cost and whether the balance covers it (the team's
    wallet and policy with ``team``).

    Validates like a real request, but charges nothing and creates nothing.
    """
    data = generation_remix_apply(user=user, data=data)
    model = model or generation_model_resolve(ref=data.get("model"))
    spec = generation_spec_build(model=model, data=data, user=user)
    team_model_check(team=team, model_id=model.pk)
    cost = credits_cost(model=model, num_images=spec.num_images, params=spec.params)
    remaining = credits_balance(user=user) if team is None else team_wallet_balance(team_id=team.pk)
    return {
        "model": model.pk,
        "num_images": spec.num_images,
        "cost": cost,
        "credits_remaining": remaining,
        "sufficient": remaining >= cost,
    }


@dataclass(frozen=True)
class Created:
    generation: Generation
    # The balance its debit left.
    balance_after: int


def generation_create(
    *, user, data: dict, model: AIModel | None = None, api: str = Api.ATELIER, end_user: str = "", team=None
) -> Created:
    """Validates, reserves the credits and saves the generation in one transaction; ``api``:
    the API it was asked for through (``Generation.Api``); ``end_user``: the end user the
    calling app named, if any (OpenAI's ``user``); ``team``: made as that team, whose
    caps for the member stand in for the plan's daily quota (generation.services.submission).

    The run is enqueued only once that transaction has committed, so a worker never sees a
    generation that does not exist yet, and nothing is charged for a request that fails here.
    """
    model = model or generation_model_resolve(ref=data.get("model"))
    now = timezone.now()
    spec = generation_spec_build(model=model, data=data, user=user)
    try:
        providers.get(model.provider)
    except ProviderUnavailable as exc:
        # The 503 says what enables the model (the key its provider needs).
        raise ProviderUnavailable(exc.message, details=model_unavailable_reason(model=model) or exc.details) from exc
    collection = _collection_of(user=user, collection_id=data.get("collection"), team=team)
    daily_quota = daily_generation_quota(user=user) if team is None else None
    if daily_quota is not None and model.kind in IMAGE_KINDS:
        # Before input images are fetched, a user whose day is used up gets the 429. (A read:
        # the save below is what holds the quota exactly.)
        if generation_count_on(user=user, day=now.date()) >= daily_quota:
            daily_generations_refuse(limit=daily_quota)
    # Input images are fetched and checked before anything is charged; their size is the output's.
    inputs = generation_inputs_prepare(
        user=user,
        model=model,
        data=data,
        size=(spec.width, spec.height) if spec.size_requested else None,
        upscale_factor=spec.params.get("upscale_factor", 2),
    )
    output_size = inputs.output_size(kind=model.kind, upscale_factor=spec.params.get("upscale_factor", 2))
    if output_size is not None:
        spec = dataclasses.replace(spec, width=output_size[0], height=output_size[1])
    seed = spec.seed if spec.seed is not None else secrets.randbelow(settings.ATELIER_MAX_SEED)
    cost = credits_cost(model=model, num_images=spec.num_images, params=spec.params)
    # Style template and expand_prompt (which may ask an LLM) before anything is written.
    prepared = prompt_prepare_for_generation(
        prompt=spec.prompt,
        negative_prompt=spec.negative_prompt,
        art_style=data.get("art_style"),
        expand=data.get("expand_prompt", False),
    )
    # Saved straight into in_queue with its status event: the message goes out once the
    # generation is committed. If this process dies before sending it, recovery re-sends it
    # (``dispatched_at`` is set here).
    generation = Generation(
        user=user,
        team=team,
        model=model,
        provider=model.provider,
        status=Status.IN_QUEUE,
        queued_at=now,
        dispatched_at=now,
        prompt=spec.prompt,
        final_prompt=prepared.final_prompt,
        negative_prompt=prepared.negative_prompt,
        width=spec.width,
        height=spec.height,
        num_images=spec.num_images,
        seed=seed,
        output_format=spec.output_format,
        params={**spec.params, **prepared.params},
        cost=cost,
        collection=collection,
        remix_of_id=data.get("remix_of"),
        embed_prompt_metadata=_embeds_prompt(user=user, data=data),
        webhook_url=webhook_url_accepted(url=data.get("webhook_url")),
        webhook_events_filter=webhook_events_filter_accepted(events=data.get("webhook_events_filter")),
        api=api,
        end_user=end_user,
        previews=data.get("previews", True),
    )
    # Input images are rows and files of their own, saved in the generation's transaction.
    with transaction.atomic():
        balance_after = generation_save_charged(
            generation=generation, reason=f"{model.name} × {spec.num_images}", daily_quota=daily_quota
        )
        generation_inputs_store(generation=generation, inputs=inputs)
        transaction.on_commit(partial(_dispatch_created, generation_id=generation.pk, provider=generation.provider))
    return Created(generation=generation, balance_after=balance_after)


def _embeds_prompt(*, user, data: dict) -> bool:
    """The request's ``embed_metadata``, else the owner's preference, as the generation starts."""
    asked = data.get("embed_metadata")
    return user_preference(user=user, name="embed_prompt_metadata") if asked is None else bool(asked)


def _collection_of(*, user, collection_id, team=None):
    """The collection the outputs go in: of the space the generation is made in."""
    if not collection_id:
        return None
    collection = collection_get(owner=user, collection_id=collection_id, team=team)
    if collection is None:
        raise ValidationFailed(details={"collection": [f"You have no collection {collection_id}."]})
    return collection


def _dispatch_created(*, generation_id, provider: str) -> None:
    """Sends a new generation's run message; a broker that is down fails it with a refund."""
    try:
        generation_dispatch(generation_id=generation_id, provider=provider, record=False)
    except Exception:
        logger.exception("Could not enqueue generation %s", generation_id)
        generation_fail(
            generation_id=generation_id,
            message="The job queue is unavailable; your credits were refunded.",
            error_type=ErrorType.PROVIDER_UNAVAILABLE,
        )


class _Discarded(Exception):
    pass


def generation_complete(*, generation: Generation, outputs: list[ProviderOutput]) -> bool:
    """Stores the outputs as assets and completes the generation.

    If the generation was cancelled (or failed) meanwhile the outputs are discarded: the rows
    roll back and the files just written are removed.
    """
    stored = []
    # The input image is the outputs' parent in their content credentials, when they are signed.
    ingredient = generation_input_image(generation) if signing_enabled() else None
    try:
        with transaction.atomic():
            for output in outputs:
                stored.append(
                    asset_create(
                        owner=generation.user,
                        data=output.data,
                        format=output.format,
                        width=output.width,
                        height=output.height,
                        type=output.type,
                        generation=generation,
                        prompt=generation.prompt,
                        model=generation.model_id,
                        # The art style, so that the gallery can filter by it.
                        style=generation.params.get("art_style") or "",
                        seed=output.seed,
                        is_nsfw=output.nsfw,
                        collection=generation.collection if generation.collection_id else None,
                        metadata=generation_provenance(generation=generation, output=output),
                        ingredient=ingredient,
                    )
                )
            revised = next((output.revised_prompt for output in outputs if output.revised_prompt), "")
            if revised:
                # Kept on the generation: the prompt the provider says it actually drew.
                Generation.objects.filter(pk=generation.pk).update(
                    params={**(generation.params or {}), "revised_prompt": revised}
                )
            # If the move is refused, the assets roll back.
            if not transition(
                generation_id=generation.pk,
                to=Status.COMPLETED,
                progress=100,
                log=f"Completed with {len(outputs)} output(s)",
            ):
                raise _Discarded
    except _Discarded:
        for asset in stored:
            asset.file.storage.delete(asset.file.name)
        return False
    generation_completed_send(generation_id=generation.pk)
    return True


def generation_fail(*, generation_id, message: str, error_type: str = ErrorType.PROVIDER_ERROR, details=None) -> bool:
    """Fails the generation and refunds it, in one transaction; False if it had already ended."""
    with transaction.atomic():
        moved = transition(
            generation_id=generation_id,
            to=Status.FAILED,
            error=message,
            error_type=str(error_type),
            error_details=details,
        )
        if not moved:
            return False
        generation = Generation.objects.select_related("user").get(pk=generation_id)
        credits_refund_generation(generation=generation, reason=f"Refund: generation failed ({message[:200]})")
    return True


def generation_cancel(*, generation: Generation, actor=None) -> int:
    """Cancels a queued or running generation and refunds it; the credits given back. 409 once
    it has ended.

    A queued job is never claimed afterwards (the claim needs ``in_queue``). A running one is
    cancelled upstream where the provider can; otherwise its result is discarded on arrival.
    ``actor``: the staff user who cancels it for its owner, named on the refund's ledger entry.
    """
    by = "by staff" if actor is not None else "by the user"
    with transaction.atomic():
        moved = transition(
            generation_id=generation.pk, to=Status.CANCELLED, error=f"Cancelled {by}", error_type="cancelled"
        )
        if not moved:
            current = Generation.objects.values_list("status", flat=True).get(pk=generation.pk)
            raise Conflict(f"Generation is already {current} and cannot be cancelled")
        reason = "Refund: generation cancelled" + (f" by staff ({actor.email})" if actor is not None else "")
        refund = credits_refund_generation(generation=generation, reason=reason, actor=actor)
    request_id = Generation.objects.values_list("provider_request_id", flat=True).get(pk=generation.pk)
    if request_id:
        generation_cancel_upstream(provider_name=generation.provider, request_id=request_id)
    return refund.amount if refund is not None else 0


def generation_refund_refusal(*, generation: Generation) -> str | None:
    """Why staff cannot refund this generation, or None when they can."""
    current = Generation.objects.values_list("status", flat=True).get(pk=generation.pk)
    if current not in TERMINAL_STATUSES:
        return f"it is still {current}: cancel it instead, which refunds its credits"
    refunded = LedgerEntry.objects.filter(generation=generation, kind=LedgerEntry.Kind.REFUND).first()
    if refunded is not None:
        return (
            f"it was refunded already ({refunded.amount} credits on {refunded.created_at:%Y-%m-%d %H:%M} UTC: "
            f"{refunded.reason})"
        )
    if not LedgerEntry.objects.filter(generation=generation, kind=LedgerEntry.Kind.DEBIT).exclude(amount=0).exists():
        return "it cost nothing: there are no credits to give back"
    return None


def generation_refund(*, generation: Generation, actor) -> LedgerEntry:
    """A staff refund of what an ended generation was charged (a completed one too: the
    operator's goodwill), the staff user named on the entry; 409 saying why when there is
    nothing to give back."""
    refusal = generation_refund_refusal(generation=generation)
    if refusal is None:
        entry = credits_refund_generation(generation=generation, reason=f"Refund by staff ({actor.email})", actor=actor)
        if entry is not None:
            return entry
        # Refunded by someone else since the look above (the unique constraint held).
        refusal = generation_refund_refusal(generation=generation) or "its refund did not go through"
    raise Conflict(f"Generation cannot be refunded: {refusal}")


# Only a generation that ended without its images is started again.
RETRYABLE_STATUSES = frozenset({Status.FAILED, Status.CANCELLED})


def generation_retry_refusal(*, generation: Generation) -> str | None:
    """Why an operator cannot retry this generation, or None when they can."""
    if generation.status not in RETRYABLE_STATUSES:
        return f"it is {generation.status}; only a failed or cancelled generation can be retried"
    return None


def generation_retry(*, generation: Generation, data: dict) -> Created:
    """A new generation, charged to the owner, with the request of a failed or cancelled one
    (``data``: that request, validated as the API validates it); 409 saying why otherwise."""
    refusal = generation_retry_refusal(generation=generation)
    if refusal:
        raise Conflict(f"Generation cannot be retried: {refusal}")
    return generation_create(user=generation.user, data=data, api=generation.api, end_user=generation.end_user)


# The statuses of a job that waits for a worker (``pending``: saved, not queued yet).
WAITING_STATUSES = frozenset({Status.PENDING, Status.IN_QUEUE})


@dataclass(frozen=True)
class CancelledMany:
    generation_ids: list
    # The credits given back to the user, all the cancelled jobs together.
    credits_refunded: int


ANY_SPACE = object()


def generation_cancel_many(*, user, waiting_only: bool, team=ANY_SPACE) -> CancelledMany:
    """Cancels, each through ``generation_cancel`` (one transition, one refund), every unfinished
    generation of the user, oldest first; with ``waiting_only``, only those no worker has taken.
    ``team``: that team's jobs the user may cancel: their own, or every member's for the team's
    owners and admins, as a single cancel allows (None: their personal ones; unsaid: all of theirs).

    A job that ends meanwhile is skipped. So is a waiting one a worker takes meanwhile, under
    ``waiting_only``: its status is checked again, row locked, just before it is cancelled.
    """
    unfinished = _cancellable(user=user, team=team).exclude(status__in=TERMINAL_STATUSES)
    if waiting_only:
        unfinished = unfinished.filter(status__in=WAITING_STATUSES)
    cancel = _cancel_if_waiting if waiting_only else generation_cancel
    ids, refunded = [], 0
    for generation in unfinished.order_by("created_at", "pk"):
        try:
            given_back = cancel(generation=generation)
        except Conflict:
            continue  # it ended meanwhile
        if given_back is None:
            continue  # a worker took it meanwhile
        ids.append(generation.pk)
        refunded += given_back
    return CancelledMany(generation_ids=ids, credits_refunded=refunded)


def _cancellable(*, user, team):
    if team is ANY_SPACE:
        return Generation.objects.filter(user=user)
    if team is None:
        return Generation.objects.filter(user=user, team=None)
    membership = membership_find(user=user, team_id=team.pk)
    if membership is not None and membership.manages:
        return Generation.objects.filter(team=team)
    return Generation.objects.filter(user=user, team=team)


def _cancel_if_waiting(*, generation: Generation) -> int | None:
    """``generation_cancel`` if no worker has taken the job; None otherwise. A waiting job has
    no upstream request, so the transaction holds no call to a provider."""
    with transaction.atomic():
        # The row lock holds off a worker's claim (a compare-and-swap UPDATE) until the cancel commits.
        if not Generation.objects.select_for_update().filter(pk=generation.pk, status__in=WAITING_STATUSES).exists():
            return None
        return generation_cancel(generation=generation)


def generation_cancel_unfinished(*, user) -> int:
    """Cancels (and refunds) every generation of the user that has not ended; how many."""
    return len(generation_cancel_many(user=user, waiting_only=False).generation_ids)


def generation_cancel_upstream(*, provider_name: str, request_id: str) -> None:
    try:
        providers.get(provider_name).cancel(request_id)
    except Exception:
        # The user's cancel stands either way: a result that still arrives is discarded.
        logger.warning("Upstream cancel of %s at %s failed", request_id, provider_name, exc_info=True)
