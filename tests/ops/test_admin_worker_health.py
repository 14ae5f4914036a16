"""Worker liveness: /health and /admin/api/status say whether workers beat; queue samples."""

import time

import pytest
from celery.signals import heartbeat_sent
from django.core.cache import cache

from config.celery import app
from ops.models import QueueSample
from ops.tasks import heartbeat
from ops.workers import CACHE_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_broker():
    """As in production: tasks go to workers, which must be alive."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


def test_health_is_ok_when_tasks_run_in_process(anon):
    body = anon.get("/health").json()
    assert body["checks"]["workers"]["status"] == "ok"


def test_health_fails_without_a_worker_heartbeat(anon, with_broker):
    response = anon.get("/health")
    assert response.status_code == 503
    assert "no worker heartbeat" in response.json()["checks"]["workers"]["error"]


def test_a_worker_heartbeat_makes_health_ok_and_shows_in_status(anon, staff, with_broker):
    class Eventer:
        hostname = "celery@worker-1"

    class Heart:
        eventer = Eventer()

    heartbeat_sent.send(sender=Heart())
    assert anon.get("/health").status_code == 200
    scheduler = staff.get("/admin/api/status").json()["scheduler"]
    assert scheduler["status"] == "running"
    assert scheduler["online_workers"] == 1
    assert scheduler["workers"][0]["hostname"] == "celery@worker-1"


def test_a_stale_heartbeat_fails_health(anon, staff, with_broker, settings):
    cache.set(CACHE_KEY, {"celery@old": {"at": time.time() - 10 * 60, "source": "worker"}}, timeout=None)
    response = anon.get("/health")
    assert response.status_code == 503
    assert "the last one" in response.json()["checks"]["workers"]["error"]
    assert staff.get("/admin/api/status").json()["system"]["status"] == "degraded"


def test_the_beat_task_records_a_heartbeat_and_queue_samples(anon, with_broker):
    written = heartbeat()
    assert written == QueueSample.objects.count() > 0
    assert QueueSample.objects.filter(queue="generation.local", depth=0).exists()
    assert anon.get("/health").status_code == 200


def test_the_rollup_task_stores_the_settled_days(staff, alice):
    from datetime import timedelta

    from django.utils import timezone

    from generation.models import Generation
    from ops.models import UsageDay, UsageUserDay
    from ops.tasks import rollup_usage
    from tests.helpers import generate

    assert generate(alice).status_code == 201
    Generation.objects.update(created_at=timezone.now() - timedelta(days=3))
    rollup_usage()
    day = (timezone.now() - timedelta(days=3)).date()
    assert UsageDay.objects.filter(day=day).exists()
    assert UsageUserDay.objects.get(day=day, user_id=alice.user.pk).generations == 1
    by_date = {row["date"]: row for row in staff.get("/admin/api/metrics?period=week").json()["daily_stats"]}
    assert by_date[str(day)]["generations"] == 1
