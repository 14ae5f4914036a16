"""The Celery application.

With ``REDIS_URL`` set the broker is Redis and workers run the tasks; without it the settings
make every task run eagerly inside the web process, with the same task code.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("atelier")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
