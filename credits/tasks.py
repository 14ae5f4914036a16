from celery import shared_task

from core.task_messages import task_send
from credits.services import credits_refill_batch


@shared_task(name="credits.refill_monthly", ignore_result=True)
def refill_monthly(after_pk: int = 0) -> None:
    """Refills the accounts due this month, one batch per task; a full batch sends the next.

    Beat runs it every hour: the first run of a month does the work, later ones find nothing
    due (a refill is unique per user and month), and a run missed during downtime catches up.
    """
    result = credits_refill_batch(after_pk=after_pk)
    if result["more"]:
        task_send("credits.refill_monthly", kwargs={"after_pk": result["last_pk"]})
