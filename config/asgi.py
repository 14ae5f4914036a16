"""The ASGI application, which serves live events without a thread per stream.

    gunicorn config.asgi -k uvicorn_worker.UvicornWorker -w 4 -b 0.0.0.0:8000
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_asgi_application()
