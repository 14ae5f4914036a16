"""The bare Celery task the pipeline bench compares a generation's round trip with."""

from celery import shared_task


@shared_task(name="bench.noop")
def noop() -> int:
    return 1
