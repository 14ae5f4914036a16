"""The bench servers' settings plus the old polling stream at /bench/poll-events/{id}."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.events.urls"
