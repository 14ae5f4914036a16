"""Reconnect storms on one ASGI process, as a deployment meets them.

One real server (gunicorn with a uvicorn worker, the production settings, a database pool far
below PostgreSQL's max_connections) takes 500 live-event streams opened at the same moment,
each with an API key of its own; the jobs then end through the services a worker calls, and
every stream must get its terminal event. Then all 500 reconnect at once with Last-Event-ID,
as browsers do after a network blip, and must each get what they missed. No answer may be a
5xx, the server's log must stay clean, and the server must never hold more database
connections than its pool allows.
"""

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db import connection

from accounts.services import api_key_create, user_create
from generation.models import Generation, GenerationEvent, Status
from generation.services.events import generation_record_progress
from generation.services.lifecycle import generation_complete
from tests.helpers import LOCAL_MODEL

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

STREAMS = 500
USERS = 50
POOL_MAX_SIZE = 8
APPLICATION_NAME = "atelier-storm"
ROOT = Path(settings.BASE_DIR)
# Every wait of the test is bounded by one of these (seconds).
SERVER_START_TIMEOUT = 60
OPEN_TIMEOUT = 60
END_TIMEOUT = 60
STREAM_TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    return "postgres://{USER}:{password}@{HOST}:{port}/{NAME}".format(
        **db, password=db["PASSWORD"] or "", port=db["PORT"] or 5432
    )


@pytest.fixture
def server(tmp_path):
    # Each stream is a socket on both sides; the server inherits this limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * STREAMS + 512)), hard))
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "storm-secret-key-storm-secret-key-storm-secret-key",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DB_POOL_MAX_SIZE": str(POOL_MAX_SIZE),
        # libpq names the server's connections, so the test can count them.
        "PGAPPNAME": APPLICATION_NAME,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "ATELIER_VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "WARNING",
    }
    argv = [str(Path(sys.executable).parent / "gunicorn"), "config.asgi", "-k", "uvicorn_worker.UvicornWorker"]
    argv += ["-w", "1", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--log-level", "warning"]
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "the server did not answer in time"
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield {"base": base, "log": log_path}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


class ConnectionCounter(threading.Thread):
    """Samples how many connections the server holds, until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.most = 0
        self.stopped = threading.Event()
        self.dsn = _database_url().rsplit("/", 1)[0] + "/postgres"

    def run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stopped.wait(0.1):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME]
                ).fetchone()
                self.most = max(self.most, row[0])

    def stop(self) -> int:
        self.stopped.set()
        self.join(10)
        return self.most


class Stream:
    """What one client saw of its stream."""

    def __init__(self, generation_id: str, key: str):
        self.generation_id, self.key = generation_id, key
        self.status: int | None = None
        self.error: str | None = None
        self.events: list[tuple[int | None, str, dict]] = []
        self.opened = asyncio.Event()
        self.ended = False

    def statuses(self) -> list[str]:
        return [data["status"] for _, event, data in self.events if event == "status"]


async def _follow(client: httpx.AsyncClient, base: str, stream: Stream, last_event_id: int | None) -> None:
    headers = {"Authorization": f"Bearer {stream.key}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    try:
        async with client.stream("GET", f"{base}/api/generate/{stream.generation_id}/events", headers=headers) as r:
            stream.status = r.status_code
            if r.status_code != 200:
                stream.error = (await r.aread()).decode(errors="replace")[:300]
                return
            block: dict[str, str] = {}
            async for line in r.aiter_lines():
                if line:
                    name, _, value = line.partition(": ")
                    block[name] = value
                    continue
                if "event" in block:
                    event_id = int(block["id"]) if "id" in block else None
                    stream.events.append((event_id, block["event"], json.loads(block["data"])))
                    # Open: it has read the database and follows the job.
                    stream.opened.set()
                block = {}
            stream.ended = True
    except httpx.HTTPError as exc:
        stream.error = repr(exc)
    finally:
        stream.opened.set()


async def _storm(base: str, streams: list[Stream], *, last_event_ids: dict | None, end_jobs) -> float:
    """Opens every stream at the same moment; once all have caught up, ends the jobs (when
    asked) and waits for every stream to close. Returns the seconds until all were open."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    timeout = httpx.Timeout(STREAM_TIMEOUT, connect=OPEN_TIMEOUT)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        began = time.monotonic()
        tasks = [
            asyncio.ensure_future(
                _follow(client, base, s, (last_event_ids or {}).get(s.generation_id) if last_event_ids else None)
            )
            for s in streams
        ]
        await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in streams)), OPEN_TIMEOUT)
        opened_in = time.monotonic() - began
        if end_jobs is not None:
            await asyncio.to_thread(end_jobs)
        done, pending = await asyncio.wait(tasks, timeout=END_TIMEOUT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return opened_in


def _jobs_with_keys() -> tuple[list[Stream], dict[str, int]]:
    """STREAMS running jobs of USERS users, each job watched with an API key of its own, and
    each with one progress event already stored (the event a reconnecting client last saw)."""
    users = [user_create(email=f"storm{n}@example.com", password="correct horse battery") for n in range(USERS)]
    jobs = Generation.objects.bulk_create(
        Generation(
            user=users[n % USERS],
            model_id=LOCAL_MODEL,
            provider="local",
            status=Status.PROCESSING,
            width=64,
            height=64,
            prompt=f"storm {n}",
        )
        for n in range(STREAMS)
    )
    streams = []
    for job in jobs:
        _, key = api_key_create(user=job.user, name=f"storm {job.pk}")
        generation_record_progress(generation_id=job.pk, percent=50)
        streams.append(Stream(str(job.pk), key))
    progress = dict(
        GenerationEvent.objects.filter(type=GenerationEvent.Type.PROGRESS).values_list("generation_id", "pk")
    )
    return streams, {str(generation_id): pk for generation_id, pk in progress.items()}


def _complete_all(generation_ids: list[str]) -> None:
    """The worker's part: every job completes through the lifecycle service."""
    from django.db import connections

    try:
        for generation in Generation.objects.select_related("user").filter(pk__in=generation_ids):
            assert generation_complete(generation=generation, outputs=[])
    finally:
        connections.close_all()


def _failures(streams: list[Stream]) -> list[str]:
    return [f"{s.generation_id}: {s.status} {s.error}" for s in streams if s.status != 200 or s.error]


def test_a_storm_of_streams_and_their_reconnection_all_open_and_end_on_one_asgi_process(server):
    streams, progress_ids = _jobs_with_keys()
    counter = ConnectionCounter()
    counter.start()
    try:
        opened_in = asyncio.run(
            _storm(server["base"], streams, last_event_ids=None, end_jobs=lambda: _complete_all(list(progress_ids)))
        )
        assert not _failures(streams), _failures(streams)[:5]
        assert all(s.ended and s.statuses()[-1:] == ["completed"] for s in streams), [
            (s.generation_id, s.events[-2:]) for s in streams if not s.ended or s.statuses()[-1:] != ["completed"]
        ][:5]

        # The reconnection: every client asks for what came after the progress event it saw.
        again = [Stream(s.generation_id, s.key) for s in streams]
        reopened_in = asyncio.run(_storm(server["base"], again, last_event_ids=progress_ids, end_jobs=None))
        assert not _failures(again), _failures(again)[:5]
        for stream in again:
            assert stream.ended, stream.generation_id
            # Only what it missed: the completion, nothing before its Last-Event-ID.
            assert [e for e in stream.events if e[0] is not None and e[0] <= progress_ids[stream.generation_id]] == []
            assert stream.statuses() == ["completed"], stream.events
    finally:
        most_connections = counter.stop()
    log = server["log"].read_text(errors="replace")
    for trouble in ("Traceback", "too many clients", "Internal Server Error", "couldn't get a connection"):
        assert trouble not in log, log[-3000:]
    assert 0 < most_connections <= POOL_MAX_SIZE
    print(f"{STREAMS} streams open in {opened_in:.1f} s, again in {reopened_in:.1f} s, {most_connections} connections")
