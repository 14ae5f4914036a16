"""Settings of the servers the benchmarks start: production settings, the bench URLconf and
limits high enough that a run of thousands of requests is not refused.

The rate limits stay enabled (each request still pays its counter in Redis, as in
production); only their rates are raised.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import REDIS_URL

ROOT_URLCONF = "bench.urls"

_UNLIMITED = "1000000/m"
ATELIER_RATE_LIMITS = {
    group: _UNLIMITED for group in ("general", "generation", "auth", "gallery", "prompt", "training", "admin")
}
ATELIER_DEFAULT_DAILY_GENERATIONS = 10**9
ATELIER_DEFAULT_HOURLY_REQUESTS = 10**9

# The no-op task of the pipeline bench returns its answer through Redis; the product's tasks
# ignore their results, so this changes nothing for them.
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_IMPORTS = ["bench.tasks"]

# Plain HTTP on loopback.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
