"""What both benchmarks share: their own database and Redis index, the processes they start
(gunicorn, a Celery worker), a small keep-alive HTTP load generator, statistics and memory.

Everything listens on and talks to 127.0.0.1 only. Every process started here is stopped by
its own process group when the bench ends, and the database and Redis index are emptied.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB_NAME", "atelier_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
BENCH_EMAIL = "bench@example.com"
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
CELERY_CONCURRENCY = 2
CELERY_QUEUES = "default,generation.local,bench"


# Environment, database, Redis


def bench_env(*, media_root: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "DATABASE_URL": f"{PG_SERVER_URL}/{DB_NAME}",
            "REDIS_URL": REDIS_URL,
            "MEDIA_ROOT": media_root,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def database_ensure(name: str) -> None:
    """Creates the database ``name`` on the bench server unless it is there (kept between runs)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def django_in_process(db_name: str) -> Iterator[None]:
    """Django set up in this process (test settings, no Redis) on a migrated database of its
    own, ``BENCH_DB_NAME`` or ``db_name`` on the bench server, dropped at the end."""
    name = os.environ.get("BENCH_DB_NAME", db_name)
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        sys.path.insert(0, str(ROOT))
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
        os.environ["DATABASE_URL"] = f"{PG_SERVER_URL}/{name}"
        os.environ.pop("REDIS_URL", None)
        import logging

        import django
        from django.core.management import call_command

        django.setup()
        logging.disable(logging.WARNING)
        call_command("migrate", verbosity=0)
        yield
    finally:
        from django.db import connections

        connections.close_all()
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_recreate() -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _admin_execute(f'CREATE DATABASE "{DB_NAME}"')


def database_drop() -> None:
    from django.db import connections

    connections.close_all()
    _admin_execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def redis_flush() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def django_prepare(env: dict[str, str]) -> str:
    """Sets this process up on the bench settings, migrates, and returns a fresh API key of a
    bench user who has credits for far more requests than a run sends."""
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DATABASE_URL")})
    os.environ.update({k: env[k] for k in ("REDIS_URL", "MEDIA_ROOT", "DJANGO_ALLOWED_HOSTS", "LOG_LEVEL")})
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from accounts.services import api_key_create, user_create
    from credits.services import credits_grant

    user = user_create(email=BENCH_EMAIL, password=secrets.token_urlsafe(16))
    credits_grant(user=user, amount=10**9, reason="Benchmark credits")
    _lift_plan_quotas(user)
    _, full_key = api_key_create(user=user, name="bench")
    return full_key


def _lift_plan_quotas(user) -> None:
    """Raises the bench user's plan quotas (in the bench database only): the quota checks still
    run on every request, they just never refuse one."""
    try:
        from credits.models import Plan
        from credits.selectors import plan_for_user
    except ImportError:  # a tree without plans: the settings' defaults (raised in bench.settings) apply
        return
    plan = plan_for_user(user=user)
    if plan is not None:
        Plan.objects.filter(pk=plan.pk).update(daily_generation_quota=10**9, hourly_request_quota=10**9)


@contextmanager
def bench_environment() -> Iterator[tuple[dict[str, str], str]]:
    """A fresh database and Redis index and a media folder; all removed afterwards."""
    media = tempfile.mkdtemp(prefix="atelier-bench-media-")
    env = bench_env(media_root=media)
    database_recreate()
    redis_flush()
    try:
        key = django_prepare(env)
        yield env, key
    finally:
        try:
            database_drop()
        finally:
            redis_flush()
            subprocess.run(["rm", "-rf", media], check=False)  # noqa: S603, S607


# Processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_path: str

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        with open(self.log_path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive():
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)


def start(name: str, args: list[str], env: dict[str, str]) -> Process:
    with tempfile.NamedTemporaryFile("w", prefix=f"atelier-bench-{name}-", suffix=".log", delete=False) as log:
        popen = subprocess.Popen(  # noqa: S603
            args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(name=name, popen=popen, log_path=log.name)


@contextmanager
def running(*processes_to_start) -> Iterator[list[Process]]:
    started: list[Process] = []
    try:
        for name, args, env in processes_to_start:
            started.append(start(name, args, env))
        yield started
    except BaseException:
        for process in started:
            print(f"--- last lines of the {process.name} log ---\n{process.log_tail()}", file=sys.stderr)
        raise
    finally:
        for process in reversed(started):
            process.stop()
            os.unlink(process.log_path)


def gunicorn_args(port: int) -> tuple[str, list[str]]:
    return "gunicorn", [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--workers",
        str(GUNICORN_WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(GUNICORN_THREADS),
        "--bind",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]


def celery_args() -> tuple[str, list[str]]:
    return "celery", [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(CELERY_CONCURRENCY),
        "--queues",
        CELERY_QUEUES,
        "--include",
        "bench.tasks",
        "--hostname",
        "bench@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "warning",
    ]


def wait_http(process: Process, port: int, path: str, key: str, timeout: float = 30.0) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not answer on {path} within {timeout} s:\n{process.log_tail()}")


# Memory


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_backends() -> list[int]:
    """The Postgres server processes serving the bench database."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                text = cmdline.read()
        except OSError:
            continue
        if text.startswith(b"postgres:") and f" {DB_NAME} ".encode() in text:
            found.append(int(entry))
    return found


class CPUMeter:
    """CPU seconds used by the web workers and by the bench database's Postgres backends."""

    def __init__(self, web: Process):
        self.web = web

    def sample(self) -> dict[int, float]:
        pids = children(self.web.pid) + database_backends()
        return {pid: cpu_seconds(pid) for pid in pids}

    def used(self, before: dict[int, float]) -> tuple[float, float]:
        web_pids = set(children(self.web.pid))
        web = database = 0.0
        for pid, now in self.sample().items():
            delta = now - before.get(pid, 0.0)
            if pid in web_pids:
                web += delta
            else:
                database += delta
        return web, database


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_memory(gunicorn: Process, celery: Process | None = None) -> dict[str, float]:
    web = [rss_mb(pid) for pid in children(gunicorn.pid)]
    figures = {"web_worker_rss_mb_max": max(web) if web else 0.0}
    print(f"  RSS gunicorn master        {rss_mb(gunicorn.pid):7.1f} MB")
    for index, value in enumerate(web):
        print(f"  RSS gunicorn worker {index + 1}      {value:7.1f} MB")
    if celery is not None:
        pool = [rss_mb(pid) for pid in children(celery.pid)]
        figures["celery_main_rss_mb"] = rss_mb(celery.pid)
        figures["celery_child_rss_mb_max"] = max(pool) if pool else 0.0
        print(f"  RSS celery main process    {figures['celery_main_rss_mb']:7.1f} MB")
        for index, value in enumerate(pool):
            print(f"  RSS celery pool process {index + 1}  {value:7.1f} MB")
    goal = "met" if figures["web_worker_rss_mb_max"] <= 150 else "MISSED"
    print(f"  web worker RSS goal <= 150 MB: {goal}")
    return figures


# Statistics


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}, "
        f"load average {load_average()}"
    )


# HTTP load


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0
    sample_error: str = ""
    web_cpu: float = 0.0
    database_cpu: float = 0.0

    @property
    def ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    def merge(self, other: LoadResult) -> None:
        self.latencies += other.latencies
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.web_cpu += other.web_cpu
        self.database_cpu += other.database_cpu
        self.sample_error = self.sample_error or other.sample_error

    def summary(self) -> dict[str, float]:
        return {
            "requests": len(self.latencies),
            "rps": len(self.latencies) / self.elapsed if self.elapsed else 0.0,
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
            "web_cpu_ms": self.web_cpu / len(self.latencies) * 1000 if self.latencies else 0.0,
            "db_cpu_ms": self.database_cpu / len(self.latencies) * 1000 if self.latencies else 0.0,
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        body = await reader.read()
    keep = headers.get("connection", "").lower() != "close"
    return status, body, keep


async def _client(request: bytes, port: int, deadline: float, budget: list[int], result: LoadResult) -> None:
    reader = writer = None
    try:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.perf_counter()
            try:
                writer.write(request)
                status, body, keep = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                result.errors += 1
                result.sample_error = result.sample_error or repr(exc)
                writer.close()
                writer = None
                continue
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if not 200 <= status < 300 and not result.sample_error:
                result.sample_error = f"{status}: {body[:300]!r}"
            if not keep:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


def http_request(method: str, path: str, key: str, body: dict | None = None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def load(request: bytes, *, port: int, concurrency: int, requests: int, max_seconds: float) -> LoadResult:
    """``requests`` requests from ``concurrency`` keep-alive clients, or fewer at the time limit."""
    result = LoadResult()
    budget = [requests]

    async def main() -> None:
        deadline = time.monotonic() + max_seconds
        await asyncio.gather(*(_client(request, port, deadline, budget, result) for _ in range(concurrency)))

    started = time.perf_counter()
    asyncio.run(main())
    result.elapsed = time.perf_counter() - started
    return result


def database_transactions() -> int:
    """Transactions the bench database has committed or rolled back so far (pg_stat_database)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", [DB_NAME]
        ).fetchone()
    return int(row[0])


def loop_tasks_stop(loop, tasks, thread) -> None:
    """Cancels ``tasks`` on the event loop another ``thread`` runs, then stops the loop and the thread."""
    import asyncio

    async def cancel():
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(cancel(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


async def event_stream_open(port: int, path: str, key: str, *, limit: int = 1 << 16):
    """Opens the event stream at ``path`` over a raw HTTP/1.1 connection (one asyncio loop reads
    a thousand of them; an HTTP client library would not keep up). Returns the reader, the
    writer (keep it referenced while reading: a writer that is collected closes the connection),
    and whether the answer is chunked; a status other than 200 is a RuntimeError naming it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=limit)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer {key}\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status_line:
        writer.close()
        raise RuntimeError(status_line.decode())
    return reader, writer, b"transfer-encoding: chunked" in head.lower()


async def event_stream_data(reader, chunked: bool, *, size: int = 1 << 16):
    """The stream's bytes as they arrive, without the chunked encoding's framing, until it ends."""
    while True:
        if chunked:
            length = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if length == 0:
                return
            data = (await reader.readexactly(length + 2))[:-2]
        else:
            data = await reader.read(size)
            if not data:
                return
        yield data


class StreamReaders:
    """Event streams read by one asyncio loop in a thread of the bench process. Subclasses start
    their readers as tasks on ``loop`` (kept in ``tasks``) and report each failed one to
    ``failure``; ``close`` cancels them all and stops the loop."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key
        self.failed = 0
        # Why streams failed: the answer's status line, or the exception's name.
        self.failures: Counter[str] = Counter()
        self.loop = asyncio.new_event_loop()
        self.tasks: list[asyncio.Task] = []
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def failure(self, exc: Exception) -> None:
        self.failed += 1
        self.failures[str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__] += 1
        if self.failed <= 3:
            print(f"    watcher failed: {exc!r}", file=sys.stderr)

    def close(self) -> None:
        loop_tasks_stop(self.loop, self.tasks, self.thread)


def delivery_latencies_ms(sent: dict, received: dict, *, drain_seconds: float) -> list[float]:
    """Waits up to ``drain_seconds`` for every key of ``sent`` (its send time) to be in
    ``received`` (its arrival time, filled by another thread); the latency of each that arrived."""
    deadline = time.monotonic() + drain_seconds
    while time.monotonic() < deadline and len(set(sent) & set(received)) < len(sent):
        time.sleep(0.05)
    return [(received[key] - at) * 1000 for key, at in sent.items() if key in received]
