"""The multi-node drill: the deployment of compose.yaml, as processes on loopback.

Two web processes (gunicorn with uvicorn workers, the production settings) and two Celery
workers, each in a working directory of its own with no disk in common, share PostgreSQL,
Redis and an S3 server (moto). Jobs are posted to both web nodes; one worker is killed with
SIGKILL (its whole process group) while it runs a job. The test plays beat: it runs the
recovery service as the periodic task would. In the end every job has ended exactly once, its
images are readable through either web node, live events crossed from the workers to the other
node's streams, and the ledger sums to the balance.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

from accounts.services import api_key_create, user_create
from config.celery import app as celery_app
from config.celery import worker_queues
from credits.models import CreditAccount, LedgerEntry
from credits.services import credits_grant
from gallery.models import Asset
from generation.models import TERMINAL_STATUSES, Generation, GenerationEvent, Status
from generation.services.recovery import generation_recover_stuck
from tests.helpers import wait_until

pytestmark = [
    pytest.mark.drill,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

# The 200; ATELIER_DRILL_JOBS runs fewer (or more).
JOBS = int(os.environ.get("ATELIER_DRILL_JOBS", "200"))
BUCKET = "atelier-drill"
JOB = {"model": "local/procedural", "width": 256, "height": 256, "num_images": 1}
ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3():
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


class Node:
    """One process of the deployment, in its own folder and its own process group."""

    def __init__(self, name: str, argv: list[str], base: Path, env: dict):
        self.name = name
        self.folder = base / name
        self.folder.mkdir()
        env = {**env, "MEDIA_ROOT": str(self.folder / "media"), "ATELIER_VAR_DIR": str(self.folder / "var")}
        self.log = open(self.folder / "output.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv, cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """The machine is gone: the process and its pool, with no chance to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return (self.folder / "output.log").read_text(errors="replace")[-3000:]


@pytest.fixture
def cluster(tmp_path, s3):
    db = connection.settings_dict
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "drill-secret-key-drill-secret-key-drill-secret-key",
        "DATABASE_URL": "postgres://{USER}:{password}@{HOST}:{port}/{NAME}".format(
            **db, password=db["PASSWORD"] or "", port=db["PORT"] or 5432
        ),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "RATELIMIT_ENABLE": "false",
        "ATELIER_QUOTAS_ENABLED": "false",
        "STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "LOG_LEVEL": "WARNING",
    }
    bin_dir = Path(sys.executable).parent
    nodes: dict[str, Node] = {}
    webs = []
    for name in ("web-a", "web-b"):
        port = _free_port()
        argv = [str(bin_dir / "gunicorn"), "config.asgi", "-k", "uvicorn_worker.UvicornWorker", "-w", "1"]
        # Keep-alive past the test's pauses, so pooled client connections stay usable.
        argv += ["-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--keep-alive", "120"]
        nodes[name] = Node(name, argv, tmp_path, {**env, "DB_CONN_MAX_AGE": "0"})
        webs.append(f"http://127.0.0.1:{port}")

    def start_worker(name: str) -> Node:
        argv = [str(bin_dir / "celery"), "-A", "config", "worker", "-l", "warning", "-n", f"{name}@drill"]
        argv += ["--concurrency", "2", "--without-gossip", "--without-mingle", "-Q", ",".join(worker_queues())]
        nodes[name] = Node(name, argv, tmp_path, env)
        return nodes[name]

    start_worker("worker-1")
    start_worker("worker-2")
    try:
        wait_until(
            lambda: all(_answers(web) for web in webs),
            timeout=90,
            interval=0.2,
            message=_logs("the web nodes did not answer", nodes),
        )
        wait_until(
            lambda: len(celery_app.control.ping(timeout=0.5)) >= 2,
            timeout=90,
            interval=0.2,
            message=_logs("the workers did not answer a ping", nodes),
        )
        yield {"webs": webs, "nodes": nodes, "start_worker": start_worker}
    finally:
        for node in nodes.values():
            node.stop()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def _logs(what: str, nodes: dict):
    """A wait's failure message: what went wrong, then every node's output at that moment."""

    def message() -> str:
        logs = "\n".join(f"--- {name}\n{node.output()}" for name, node in nodes.items())
        return f"{what}\n{logs}"

    return message


def _watch(base: str, secret: str, generation_id: str, seen: dict) -> None:
    """A client of the other web node following one job to its end."""
    statuses = []
    with httpx.stream(
        "GET", f"{base}/api/generate/{generation_id}/events", headers={"Authorization": f"Bearer {secret}"}, timeout=120
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and '"status"' in line:
                statuses.append(json.loads(line[6:])["status"])
    seen[generation_id] = statuses


def _kill_a_worker_mid_job(cluster) -> str:
    """SIGKILLs a worker while it runs a job; returns that job's id."""
    for attempt in range(3):
        name = "worker-1" if attempt == 0 else f"worker-1-{attempt}"
        if attempt:
            # The last one finished its job between the look and the kill: a fresh worker.
            cluster["start_worker"](name)
        inspector = celery_app.control.inspect(destination=[f"{name}@drill"], timeout=0.5)

        def running_jobs(name=name, inspector=inspector) -> list:
            running = [str(task["args"][0]) for task in (inspector.active() or {}).get(f"{name}@drill", [])]
            caught = Generation.objects.filter(pk__in=running, status=Status.PROCESSING)
            return list(caught.values_list("pk", flat=True))

        running = wait_until(running_jobs, timeout=30, message=f"{name} was never seen running a job")
        cluster["nodes"][name].kill()
        interrupted = Generation.objects.filter(pk__in=running, status=Status.PROCESSING)
        if interrupted.exists():
            return str(interrupted.first().pk)
    raise AssertionError("no worker was caught running a job")


def test_jobs_across_two_web_nodes_survive_a_killed_worker_and_end_exactly_once(cluster, settings):
    settings.ATELIER_PROVIDER_TIME_LIMITS = {**settings.ATELIER_PROVIDER_TIME_LIMITS, "local": {"soft": 4, "hard": 5}}
    settings.ATELIER_RECOVERY_GRACE_SECONDS = 1
    # Long enough that a job merely waiting its turn is not sent again and again.
    settings.ATELIER_REDISPATCH_AFTER_SECONDS = 60
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    try:
        _drill(cluster)
    except BaseException:
        for name, node in cluster["nodes"].items():
            print(f"--- {name}\n{node.output()}")
        raise
    finally:
        celery_app.conf.task_always_eager = eager


def _drill(cluster):
    started = time.monotonic()
    user = user_create(email="drill@example.com", password="correct horse battery")
    _, secret = api_key_create(user=user, name="drill")
    credits_grant(user=user, amount=JOBS * 20, reason="the drill's jobs")
    webs = cluster["webs"]
    clients = [httpx.Client(base_url=web, headers={"Authorization": f"Bearer {secret}"}, timeout=60) for web in webs]

    def post(index: int) -> tuple[int, str]:
        response = clients[index % 2].post(
            "/api/generate",
            json={**JOB, "prompt": f"drill {index}"},
        )
        assert response.status_code == 201, response.text
        return index % 2, response.json()["generation"]["id"]

    seen: dict[str, list[str]] = {}
    watchers = []
    with ThreadPoolExecutor(8) as pool:
        first = [post(index) for index in range(4)]
        for node, generation_id in first:  # followed through the node it was not posted to
            watcher = threading.Thread(target=_watch, args=(webs[1 - node], secret, generation_id, seen))
            watcher.start()
            watchers.append(watcher)
        later = pool.map(post, range(4, JOBS))
        killed = _kill_a_worker_mid_job(cluster)
        posted = first + list(later)
    for client in clients:
        client.close()
    assert len({generation_id for _, generation_id in posted}) == JOBS

    posted_at = time.monotonic()

    def unfinished() -> int:
        generation_recover_stuck()  # what beat runs every minute
        return Generation.objects.filter(user=user).exclude(status__in=TERMINAL_STATUSES).count()

    # The killed job's time limit and the recovery's grace pass in the workers' real time.
    wait_until(
        lambda: unfinished() == 0, timeout=120, interval=1.0, message=_logs("not every job ended", cluster["nodes"])
    )
    ended_at = time.monotonic()

    generations = {g.pk: g for g in Generation.objects.filter(user=user)}
    assert {g.status for g in generations.values()} == {Status.COMPLETED}
    assert generations[uuid.UUID(killed)].attempts >= 2, "the killed job was run again"
    terminal_events = GenerationEvent.objects.filter(
        generation__user=user, type=GenerationEvent.Type.STATUS, data__status__in=list(TERMINAL_STATUSES)
    )
    assert terminal_events.count() == JOBS  # one end each
    assert Asset.objects.filter(owner=user).count() == JOBS  # no job stored twice
    debits = LedgerEntry.objects.filter(user=user, generation__isnull=False)
    assert debits.count() == JOBS and not debits.filter(amount__gt=0).exists()  # one charge, no refund
    ledger = sum(LedgerEntry.objects.filter(user=user).values_list("amount", flat=True))
    assert ledger == CreditAccount.objects.get(user=user).balance

    # Live events reached the other node's streams, from whichever worker ran the job.
    for watcher in watchers:
        watcher.join(60)
    assert all(statuses[-1] == "completed" for statuses in seen.values()) and len(seen) == len(first)

    # Every image, through the web node the job was not posted to (the killed job's through both).
    readers = {base: httpx.Client(headers={"Authorization": f"Bearer {secret}"}, timeout=60) for base in webs}
    store = httpx.Client(timeout=60)

    def get(base: str, path: str) -> httpx.Response:
        return readers[base].get(f"{base}{path}")

    # Both nodes list every job, finished, with its images (pages of 100).
    images: dict[str, list[str]] = {}
    for base in webs:
        listed = {}
        for page in range(1, JOBS // 100 + 2):
            body = get(base, f"/api/generate?limit=100&page={page}").json()
            for generation in body["generations"]:
                listed[generation["id"]] = [urllib.parse.urlsplit(i["url"]).path for i in generation["images"]]
            if len(listed) >= JOBS:
                break
        assert set(listed) == {generation_id for _, generation_id in posted}
        images = listed

    def read_images(item) -> int:
        node, generation_id = item
        read = 0
        for base in [webs[1 - node]] if generation_id != killed else webs:
            for path in images[generation_id]:
                answer = get(base, path)
                if answer.status_code == 302:  # a pre-signed URL of the object store
                    answer = store.get(answer.headers["Location"])
                assert answer.status_code == 200 and answer.content[:8] == b"\x89PNG\r\n\x1a\n"
                read += 1
        return read

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(read_images, posted)) == JOBS + 1
    for client in [*readers.values(), store]:
        client.close()
    print(
        f"drill: {JOBS} jobs posted in {posted_at - started:.1f} s, all ended at {ended_at - started:.1f} s, "
        f"images read by {time.monotonic() - started:.1f} s"
    )
