"""The embedded run on one SQLite file: web, worker and beat write at once, none sees
"database is locked".

``make run`` starts three processes over one SQLite file. Here three processes on the project's
settings (as ``make run`` has them) write to one file at the same moment: two "web" processes
whose threads create generations and move them to their end, as requests and the worker do,
and one "beat" process running the ops heartbeat task (worker liveness and queue samples).
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
THREADS = 4
ROUNDS = 15
# Bounds every process of the test (seconds).
TIMEOUT = 120

WRITER = """
import json, sys, threading
import django

django.setup()
from django.db import connections

from accounts.models import User
from generation.models import Generation, Status
from generation.state import transition
from ops.tasks import heartbeat

role, threads, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
errors, writes = [], []
user = User.objects.get(email="writer@example.com")
start = threading.Barrier(threads)


def web():
    for _ in range(rounds):
        generation = Generation.objects.create(
            user=user, model_id="local/procedural", provider="local", status=Status.PENDING, width=64, height=64
        )
        for status in (Status.IN_QUEUE, Status.PROCESSING, Status.COMPLETED):
            assert transition(generation_id=generation.pk, to=status)
        writes.append(1)


def beat():
    for _ in range(rounds):
        heartbeat.apply(throw=True)
        writes.append(1)


def run():
    start.wait()
    try:
        (web if role == "web" else beat)()
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()


workers = [threading.Thread(target=run) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(json.dumps({"errors": errors, "writes": len(writes)}))
"""


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "ATELIER_VAR_DIR": str(tmp_path / "var"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def test_web_worker_and_beat_writing_one_sqlite_file_at_once_never_find_it_locked(tmp_path):
    env = _env(tmp_path)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=TIMEOUT)
    create_user = "from accounts.services import user_create; user_create(email='writer@example.com', password='x')"
    subprocess.run([*manage, "shell", "-c", create_user], cwd=ROOT, env=env, check=True, timeout=TIMEOUT)

    roles = ["web", "web", "beat"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, role, str(THREADS), str(ROUNDS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in roles
    ]
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=TIMEOUT)
            assert process.returncode == 0, err[-3000:]
            assert "database is locked" not in err, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(5)

    assert [r["errors"] for r in results] == [[], [], []]
    assert [r["writes"] for r in results] == [THREADS * ROUNDS] * len(roles)
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        completed = db.execute("SELECT count(*) FROM generation_generation WHERE status = 'completed'").fetchone()
    assert completed == (2 * THREADS * ROUNDS,)
