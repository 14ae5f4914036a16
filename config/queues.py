"""Prints the queues a worker consumes, as config/celery.py declares them, for
``celery -A config worker -Q "$(python -m config.queues)"``."""

from config.celery import worker_queues

if __name__ == "__main__":
    print(",".join(worker_queues()))
