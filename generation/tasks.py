from celery import shared_task

from generation import services


@shared_task(name="generation.run", ignore_result=True)
def run_generation(generation_id: str) -> None:
    services.generation_run(generation_id=generation_id)
