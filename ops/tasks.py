"""Periodic operator tasks: the worker heartbeat and the queue samples."""

from celery import shared_task


@shared_task(bind=True, name="ops.heartbeat", ignore_result=True)
def heartbeat(self) -> int:
    from ops.queues import queue_samples_record
    from ops.workers import worker_heartbeat_record

    worker_heartbeat_record(hostname=self.request.hostname, source="beat", force=True)
    return queue_samples_record()
