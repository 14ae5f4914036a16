"""Celery tasks of the outbound webhooks: thin, each calls one service."""

from celery import shared_task

from webhooks import services


@shared_task(name="webhooks.deliver", ignore_result=True, acks_late=True)
def deliver_webhook(delivery_id: str) -> str | None:
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.deliver_due", ignore_result=True)
def deliver_due_webhooks() -> int:
    return services.deliveries_due()
