"""Celery tasks: thin wrappers that take ids and call one service each."""

from celery import shared_task

from generation import services
from generation.webhooks.services import provider_webhook_apply


@shared_task(name="generation.run", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_generation(generation_id: str) -> None:
    services.generation_run(generation_id=generation_id)


@shared_task(name="generation.poll", ignore_result=True)
def poll_generation(generation_id: str, attempt: int) -> None:
    services.generation_poll(generation_id=generation_id, attempt=attempt)


@shared_task(name="generation.apply_provider_webhook", ignore_result=True, acks_late=True)
def apply_provider_webhook(generation_id: str, payload: dict) -> None:

    provider_webhook_apply(generation_id=generation_id, payload=payload)


@shared_task(name="generation.recover_stuck", ignore_result=True)
def recover_stuck_generations() -> dict:
    return services.generation_recover_stuck()


@shared_task(name="generation.expire_idempotency_keys", ignore_result=True)
def expire_idempotency_keys() -> int:
    return services.idempotency_expire()
