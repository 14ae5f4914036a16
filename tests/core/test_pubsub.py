"""The live-event bus: in-process without Redis, through Redis pub/sub across processes with it."""

import asyncio
import os
import subprocess
import sys
import threading

import pytest
from django.db import transaction

from core import pubsub


@pytest.fixture
def in_process(settings):
    settings.REDIS_URL = ""


def test_without_redis_a_message_reaches_this_processs_subscribers_of_its_channel_only(in_process):
    with pubsub.subscribe("a") as first, pubsub.subscribe("a", "b") as second, pubsub.subscribe("c") as other:
        pubsub.publish(channel="a", message={"n": 1})
        pubsub.publish(channel="b", message={"n": 2})
        assert first.get_blocking(1) == {"n": 1}
        assert [second.get_blocking(1), second.get_blocking(1)] == [{"n": 1}, {"n": 2}]
        assert other.get_blocking(0.05) is None
        assert pubsub.subscriber_count() == 3
    assert pubsub.subscriber_count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_message_published_on_commit_waits_for_the_commit_and_is_dropped_on_rollback(in_process):
    with pubsub.subscribe("jobs") as subscription:
        with transaction.atomic():
            pubsub.publish_on_commit(channel="jobs", message={"kept": True})
            assert subscription.get_blocking(0.05) is None
        assert subscription.get_blocking(1) == {"kept": True}
        with pytest.raises(RuntimeError), transaction.atomic():
            pubsub.publish_on_commit(channel="jobs", message={"kept": False})
            raise RuntimeError
        assert subscription.get_blocking(0.05) is None


def test_an_async_subscriber_is_woken_from_another_thread(in_process):
    async def follow():
        with pubsub.subscribe("async") as subscription:
            threading.Timer(0.05, pubsub.publish, kwargs={"channel": "async", "message": {"ok": 1}}).start()
            return await subscription.get(2)

    assert asyncio.run(follow()) == {"ok": 1}


def test_without_redis_a_message_from_another_local_process_reaches_the_subscriber(in_process, settings, tmp_path):
    """The embedded run: the worker is a process of its own and publishes; the web server hears."""
    settings.VAR_DIR = tmp_path
    with pubsub.subscribe("local") as subscription:
        code = (
            "import django; django.setup(); from core import pubsub; "
            "pubsub.publish(channel='local', message={'from': 'worker'}); "
            "pubsub.publish(channel='unheard', message={'from': 'worker'})"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "ATELIER_VAR_DIR": str(tmp_path)}
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
        assert subscription.get_blocking(10) == {"from": "worker"}
        assert subscription.get_blocking(0.1) is None


@pytest.mark.redis
def test_with_redis_a_message_from_another_process_reaches_the_subscriber(settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    with pubsub.subscribe("cross") as subscription, pubsub.subscribe("elsewhere") as elsewhere:
        code = (
            "import django; django.setup(); from core import pubsub; "
            "pubsub.publish(channel='cross', message={'from': 'worker'})"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
        assert subscription.get_blocking(10) == {"from": "worker"}
        assert elsewhere.get_blocking(0.1) is None


@pytest.mark.redis
def test_channels_of_another_redis_database_are_not_heard(settings):
    assert pubsub.channel_prefix("redis://127.0.0.1:6379/6") != pubsub.channel_prefix("redis://127.0.0.1:6379/15")
    settings.REDIS_URL = os.environ["REDIS_URL"]
    with pubsub.subscribe("shared-name") as subscription:
        import redis

        other = pubsub.channel_prefix("redis://127.0.0.1:6379/99") + "shared-name"
        redis.Redis.from_url(os.environ["REDIS_URL"]).publish(other, '{"other": 1}')
        assert subscription.get_blocking(0.3) is None


@pytest.mark.redis
def test_after_the_listener_loses_redis_every_subscriber_is_told_to_read_the_database_again(settings):
    import redis

    settings.REDIS_URL = os.environ["REDIS_URL"]
    admin = redis.Redis.from_url(os.environ["REDIS_URL"])
    with pubsub.subscribe("one") as first, pubsub.subscribe("two") as second:
        # This process's listeners (earlier tests' settings may have left one of their own).
        listeners = [c for c in admin.client_list() if c["name"] == f"atelier-events-{os.getpid()}"]
        assert listeners
        for listener in listeners:
            admin.client_kill_filter(_id=listener["id"])
        assert first.get_blocking(10) == pubsub.RESYNC
        assert second.get_blocking(1) == pubsub.RESYNC
        # And it listens again.
        pubsub.publish(channel="one", message={"after": True})
        assert first.get_blocking(10) == {"after": True}
