"""The product as `make run` starts it, for the journeys: web, worker and beat from the Procfile.

``running_product()`` copies the source into a fresh folder and runs there what `make run` runs:
``manage.py migrate``, ``manage.py seed_demo``, ``manage.py c2pa_test_signer`` (the local test
signer of content credentials, its settings given to the processes) and ``honcho start -f
Procfile`` (on a free port), on the embedded defaults: a new ``db.sqlite3``, kombu's filesystem
broker and the file cache under ``var/``, local media under ``media/``, the offline ``local``
provider, and the default plans, rate limits and quotas. Everything the processes print goes to
one log file, which the journeys read for tracebacks.

The copy keeps the run apart from the checkout: its database, ``var/`` and ``media/`` are its
own, and edits made to the checkout while a journey runs do not restart the development server
under the browser. ATELIER_JOURNEY_SOURCE=<git revision> runs that commit instead of the working
tree (``HEAD``: what has landed, without edits still in progress).

ATELIER_JOURNEY_SERVICES=1, with the run's DATABASE_URL (PostgreSQL) and REDIS_URL, runs the
processes as `make run` runs with those two set instead: a fresh database on that server, made
for the run and dropped after it, and that Redis database (broker, cache and live events),
emptied before and after, as the suite's Redis tests do.

On exit every process is stopped: honcho is asked first (it stops its children), then whatever
is left of the processes started here, found by a marker in their environment, is killed with
its process group.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
MARKER = "ATELIER_JOURNEY_RUN"
STARTUP_SECONDS = 180
SOURCE_VARIABLE = "ATELIER_JOURNEY_SOURCE"
SERVICES_VARIABLE = "ATELIER_JOURNEY_SERVICES"

# Settings of the test run that must not leak into the product's processes: they start with
# what `make run` gives them (config.settings.dev, the embedded defaults).
_NOT_INHERITED_PREFIXES = ("DJANGO_", "ATELIER_", "RATE_LIMIT", "CELERY_")
_NOT_INHERITED = {
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE",
    "MEDIA_ROOT",
    "RATELIMIT_ENABLE",
    "LOG_LEVEL",
    "PORT",
    "PYTHONPATH",
    "ACCOUNT_EMAIL_VERIFICATION",
    "EMAIL_URL",
}
# What the copy of the source leaves out: the virtualenv, history, and a local run's state.
_NOT_COPIED = (".venv", ".git", "db.sqlite3*", "var", "media", "staticfiles", "__pycache__", ".*_cache", ".env")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Product:
    """A running product: its address, its folder and the log every process writes to."""

    base_url: str
    folder: Path  # the copy of the source the processes run in
    log_path: Path
    env: dict[str, str]
    marker: str
    honcho: subprocess.Popen | None = field(default=None, repr=False)

    def log(self, *, since: int = 0) -> str:
        """What the processes printed, from byte ``since`` on (``log_size()`` marks a start)."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def tracebacks(self, *, since: int = 0) -> list[str]:
        """Each traceback in the log, with the lines around it (honcho prefixes each line with the
        name of the process that printed it)."""
        lines = self.log(since=since).splitlines()
        return [
            "\n".join(lines[max(index - 3, 0) : index + 40]) for index, line in enumerate(lines) if "Traceback" in line
        ]

    def manage(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        """Runs ``python manage.py …`` in the product's folder and environment, as an operator would."""
        result = subprocess.run(
            ["python", "manage.py", *args],
            cwd=self.folder,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        with self.log_path.open("a") as log:
            log.write(f"$ manage.py {' '.join(args)}\n{result.stdout}{result.stderr}")
        if check and result.returncode:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout + result.stderr


def _environment(*, port: int, marker: str, extra: dict[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _NOT_INHERITED and not name.startswith(_NOT_INHERITED_PREFIXES)
    }
    name, value = marker.split("=")
    # `make run` puts the virtualenv's bin first, for honcho and the Procfile's commands.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update({"PYTHONUNBUFFERED": "1", "PORT": str(port), name: value, **extra})
    return env


def _copy_source(target: Path) -> None:
    """The working tree, or with ATELIER_JOURNEY_SOURCE=<git revision> that commit (e.g. HEAD:
    what has landed, without edits still in progress in the checkout)."""
    revision = os.environ.get(SOURCE_VARIABLE, "")
    if not revision:
        shutil.copytree(ROOT, target, symlinks=True, ignore=shutil.ignore_patterns(*_NOT_COPIED))
        return
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)


def _own_processes(marker: str) -> list[int]:
    """Ids of the processes whose environment carries this run's marker."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            group = os.getpgid(pid)
            if group != os.getpgrp():  # never the test run's own group
                os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _stop(product: Product) -> None:
    honcho = product.honcho
    if honcho is not None and honcho.poll() is None:
        # honcho forwards SIGTERM to each process's group and waits for them.
        os.killpg(honcho.pid, signal.SIGTERM)
        try:
            honcho.wait(20)
        except subprocess.TimeoutExpired:
            pass
    deadline = time.monotonic() + 10
    while (left := _own_processes(product.marker)) and time.monotonic() < deadline:
        _kill(left)
        time.sleep(0.2)
    if honcho is not None:
        try:
            honcho.wait(5)
        except subprocess.TimeoutExpired:
            pass


@contextmanager
def _services() -> Iterator[dict[str, str]]:
    """The processes' DATABASE_URL and REDIS_URL with ATELIER_JOURNEY_SERVICES=1 (a database
    made for this run on the run's PostgreSQL server, dropped on exit; the run's Redis database,
    emptied before and after), else nothing: the embedded defaults."""
    if os.environ.get(SERVICES_VARIABLE) != "1":
        yield {}
        return
    import psycopg
    import redis

    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        raise AssertionError(f"{SERVICES_VARIABLE}=1 needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    parts = urlsplit(database_url)
    name = f"{parts.path.strip('/')}_journey_{uuid.uuid4().hex[:8]}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    try:
        yield {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")), "REDIS_URL": redis_url}
    finally:
        store.flushdb()
        store.close()
        with psycopg.connect(maintenance, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_product(*, env: dict[str, str] | None = None, keep: bool = False) -> Iterator[Product]:
    """Starts the product (migrate, seed_demo, c2pa_test_signer, honcho start) and stops all of it on exit.

    ``env`` adds settings to the processes' environment (e.g. an allow-listed webhook host);
    ``keep`` leaves the folder behind for a look after a failure.
    """
    with _services() as services:
        with _started(services={**services, **(env or {})}, keep=keep) as product:
            yield product


@contextmanager
def _started(*, services: dict[str, str], keep: bool) -> Iterator[Product]:
    folder = Path(tempfile.mkdtemp(prefix="atelier-journey-"))
    source = folder / "atelier"
    _copy_source(source)
    port = free_port()
    marker = f"{MARKER}={uuid.uuid4().hex}"
    product = Product(
        base_url=f"http://127.0.0.1:{port}",
        folder=source,
        log_path=folder / "processes.log",
        env=_environment(port=port, marker=marker, extra=services),
        marker=marker,
    )
    try:
        product.manage("migrate", "--noinput")
        product.manage("seed_demo")
        # As `make run` does (eval of `c2pa_test_signer --export --if-unset`): the processes sign
        # what they store with the local test signer, whose root the readers trust.
        for line in product.manage("c2pa_test_signer", "--if-unset").split():
            name, _, value = line.partition("=")
            if name.startswith("ATELIER_C2PA_"):
                product.env[name] = value
        with product.log_path.open("ab") as log:
            product.honcho = subprocess.Popen(
                ["honcho", "start", "-f", "Procfile", "-p", str(port)],
                cwd=source,
                env=product.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(product.base_url):
            if product.honcho.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the product did not become healthy:\n{product.log()[-5000:]}")
            time.sleep(0.5)
        yield product
    finally:
        _stop(product)
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
