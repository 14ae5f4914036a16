"""Every task of the project is sent by name from a process that has loaded no tasks module (a
web process, beat, a shell), and its message reaches the broker with its name and its queue.

The sending runs in a fresh Python process that calls ``django.setup()`` and nothing else, on a
real broker: kombu's filesystem transport in a folder of the test's own (the embedded run's
broker), or Redis when ``REDIS_URL`` is set. It sends from a thread it starts, as a threaded
web server's request thread would.
"""

import ast
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as project_app

APPS = ("accounts", "catalog", "credits", "gallery", "generation", "ops", "training", "webhooks")
JOB = "00000000-0000-4000-8000-000000000001"

# The queue each task's message must arrive in, as its sender sends it.
EXPECTED_QUEUES = {
    "generation.run": "generation.local",
    "generation.poll": "generation.fal",
    "generation.apply_provider_webhook": "generation.replicate",
    "training.run": "training",
    "training.poll": "training",
    "training.recover_stuck": "training",
}

SENDER = r"""
import json, sys, threading

import django

django.setup()

from celery import beat

from config.celery import app
from core.task_messages import task_send

if sys.argv[1] == "filesystem":
    folder = sys.argv[2]
    app.conf.update(
        broker_url="filesystem://localhost/",
        broker_transport_options={
            "data_folder_in": folder,
            "data_folder_out": folder,
            # Else kombu keeps its exchange table in ./control, inside the checkout.
            "control_folder": folder + "/control",
        },
    )

JOB = sys.argv[3]


def send_all():
    from credits.services import credits_refill_batch  # noqa: F401 - the module whose task recurses
    from gallery.services import _enqueue_thumbnail
    from generation.services.dispatch import generation_dispatch, provider_queue, provider_webhook_dispatch
    from training.runner import schedule_poll
    from training.services import training_dispatch
    from webhooks.services import _enqueue

    sent = []
    # The senders of the services, as a request or a task calls them.
    generation_dispatch(generation_id=JOB, provider="local", record=False)
    provider_webhook_dispatch(generation_id=JOB, provider="replicate", payload={"id": "r1"})
    # generation_schedule_poll writes next_poll_at first; this is the message it then sends.
    task_send("generation.poll", args=[JOB, 0], queue=provider_queue("fal"), countdown=30)
    training_dispatch(job_id=JOB)
    schedule_poll(job_id=JOB, delay=30)
    _enqueue_thumbnail(asset_id=JOB)
    _enqueue([JOB])
    # credits.refill_monthly sends its next batch by name (credits/tasks.py).
    task_send("credits.refill_monthly", kwargs={"after_pk": 10})
    sent += ["generation.run", "generation.apply_provider_webhook", "generation.poll", "training.run",
             "training.poll", "gallery.asset_thumbnail_create", "webhooks.deliver", "credits.refill_monthly"]
    # The periodic tasks, as celery beat sends them.
    scheduler = beat.Scheduler(app=app, lazy=True)
    for name, entry in app.conf.beat_schedule.items():
        scheduler.apply_async(beat.ScheduleEntry(name=name, app=app, **entry))
        sent.append(entry["task"])
    return sent


result = {}


def run():
    try:
        result["sent"] = send_all()
    except Exception as exc:
        result["error"] = repr(exc)


thread = threading.Thread(target=run)
thread.start()
thread.join()
apps = {"accounts", "catalog", "credits", "gallery", "generation", "ops", "training", "webhooks"}
result["tasks_modules"] = sorted(n for n in sys.modules if n.endswith(".tasks") and n.split(".")[0] in apps)
result["registered"] = sorted(name for name in app.tasks if not name.startswith("celery."))
print(json.dumps(result))
"""


def _declared_task_names() -> set[str]:
    """Every ``@shared_task(name=…)`` of the project's apps and every task of the beat schedule."""
    names = {entry["task"] for entry in project_app.conf.beat_schedule.values()}
    for app_name in APPS:
        for path in (Path(settings.BASE_DIR) / app_name).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "shared_task":
                    names |= {kw.value.value for kw in node.keywords if kw.arg == "name"}
    return names


def _send_from_fresh_process(*, broker: str, folder: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
    }
    if broker == "filesystem":
        env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SENDER, broker, str(folder / "messages"), JOB],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in result, (result, done.stderr)
    # Nothing read a task registry, so nothing loaded the code of a task.
    assert result["tasks_modules"] == [] and result["registered"] == []
    assert "Traceback" not in done.stderr, done.stderr
    return result


def _filesystem_messages(folder: Path) -> list[tuple[str, str, list]]:
    """(task name, queue, args) of every message in the folder (``<time>_<id>.<queue>.msg``)."""
    found = []
    for path in (folder / "messages").glob("*.msg"):
        queue = path.name.split(".", 1)[1].removesuffix(".msg")
        message = json.loads(path.read_text())
        found.append((message["headers"]["task"], queue, _args(message)))
    return found


def _redis_messages(url: str) -> list[tuple[str, str, list]]:
    import redis

    client = redis.Redis.from_url(url)
    found = []
    for queue in [q.name for q in project_app.conf.task_queues]:
        for raw in client.lrange(queue, 0, -1):
            message = json.loads(raw)
            found.append((message["headers"]["task"], queue, _args(message)))
    # Countdowns wait in the transport's "unacked" store until due; none here are due yet.
    return found


def _args(message: dict) -> list:
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    return args


def _check(messages: list[tuple[str, str, list]], sent: list[str]) -> None:
    declared = _declared_task_names()
    assert set(sent) == declared, "every task of the project has a sender in this test"
    by_name = {}
    for name, queue, args in messages:
        by_name.setdefault(name, []).append((queue, args))
    assert sorted(by_name) == sorted(declared)
    for name in declared:
        queues = {queue for queue, _args in by_name[name]}
        assert queues == {EXPECTED_QUEUES.get(name, "default")}, name
    assert by_name["generation.run"][0][1] == [JOB]
    assert by_name["webhooks.deliver"][0][1] == [JOB]


def test_every_task_is_sent_by_name_from_a_process_that_loaded_no_tasks(tmp_path):
    result = _send_from_fresh_process(broker="filesystem", folder=tmp_path)
    _check(_filesystem_messages(tmp_path), result["sent"])


@pytest.mark.redis
def test_every_task_is_sent_by_name_to_redis(tmp_path):
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    try:
        result = _send_from_fresh_process(broker="redis", folder=tmp_path)
        messages = _redis_messages(settings.REDIS_URL)
        # A message with a countdown is in its queue at once: the worker holds it until due.
        _check(messages, result["sent"])
    finally:
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
