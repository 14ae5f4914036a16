"""Celery tasks of the training queue: thin wrappers that take ids and call one service each."""

from celery import shared_task

from training import runner


@shared_task(
    name="training.run",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=1800,
    time_limit=1900,
)
def run_training(job_id: str) -> None:
    runner.training_run(job_id=job_id)


@shared_task(name="training.poll", ignore_result=True)
def poll_training(job_id: str) -> None:
    runner.training_poll(job_id=job_id)


@shared_task(name="training.recover_stuck", ignore_result=True)
def recover_stuck_trainings() -> dict:
    return runner.training_recover_stuck()
