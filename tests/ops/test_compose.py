"""The production stack (compose.yaml, Dockerfile) against the code it runs.

No container engine runs here: the files are parsed and checked against what the code declares
(Celery's queues, the settings modules and the variables they read, the ASGI application).
"""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from config.celery import worker_queues

ROOT = Path(settings.BASE_DIR)
APP_ROLES = {"web", "worker-local", "worker-hosted", "worker-comfyui", "training", "beat"}
ONE_OFFS = {"migrate", "createbucket"}
# Read from the environment by the libraries themselves (Django's loader, boto3).
READ_BY_LIBRARIES = {"DJANGO_SETTINGS_MODULE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _argv(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def _workers(services) -> dict[str, list[str]]:
    return {name: _argv(s) for name, s in services.items() if _argv(s)[:4] == ["celery", "-A", "config", "worker"]}


def test_the_stack_has_every_role_and_its_backing_services(services):
    assert APP_ROLES | ONE_OFFS | {"postgres", "redis", "minio"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["minio"]["image"].startswith("minio/minio:")


def test_workers_consume_every_declared_queue_and_only_those(services):
    consumed: dict[str, list[str]] = {}
    for name, argv in _workers(services).items():
        queues = _option(argv, "-Q")
        assert queues, f"{name} names its queues"
        for queue in queues.split(","):
            consumed.setdefault(queue, []).append(name)
    assert set(consumed) == set(worker_queues())
    # Each provider queue group has its own workers; training has its own service.
    assert all(len(names) == 1 for names in consumed.values()), consumed
    assert consumed[settings.ATELIER_TRAINING_QUEUE] == ["training"]
    assert consumed["generation.local"] != consumed["generation.fal"] != consumed["generation.comfyui"]


def test_web_serves_the_asgi_application_with_uvicorn_workers_under_gunicorn(services):
    argv = _argv(services["web"])
    assert argv[:2] == ["gunicorn", "config.asgi"]
    worker_class = _option(argv, "-k")
    module, _, attribute = worker_class.rpartition(".")
    assert hasattr(importlib.import_module(module), attribute)
    assert hasattr(importlib.import_module("config.asgi"), "application")
    assert "8000:8000" in services["web"]["ports"]


def test_the_pools_of_every_process_fit_postgres_default_max_connections(compose, services):
    """The sizing rule of docs/production-database.md: web processes × their pool, plus every
    worker pool process × its pool, plus beat, stays under PostgreSQL's default 100 (less the 3
    reserved for superusers), with the worker-local containers on a 4-core host."""
    shared = compose["x-app"]["environment"]

    def pool_max(service) -> int:
        return int(service.get("environment", {}).get("DB_POOL_MAX_SIZE", shared["DB_POOL_MAX_SIZE"]))

    web_processes = int(re.search(r"\d+", _option(_argv(services["web"]), "-w")).group())
    total = web_processes * pool_max(services["web"]) + pool_max(services["beat"])
    for name, argv in _workers(services).items():
        total += int(_option(argv, "--concurrency") or 4) * pool_max(services[name])
    assert total <= 97


def test_there_is_exactly_one_beat(services):
    beats = [name for name, s in services.items() if _argv(s)[:4] == ["celery", "-A", "config", "beat"]]
    assert beats == ["beat"]


def test_long_running_services_have_health_checks_and_one_offs_run_once(services):
    for name, service in services.items():
        if name in ONE_OFFS:
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck", {})
        assert not check.get("disable") and check.get("test"), f"{name} has a health check"
    for name, argv in _workers(services).items():
        test = " ".join(services[name]["healthcheck"]["test"])
        assert f"--destination {_option(argv, '-n').split('@')[0]}@" in test, f"{name} pings itself"


def test_migrations_run_once_before_every_role_starts(services):
    assert _argv(services["migrate"]) == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for role in APP_ROLES:
        depends = services[role]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_the_roles_run_the_production_settings_on_postgres_redis_and_minio(services):
    settings_text = "\n".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py"))
    for role in APP_ROLES | {"migrate"}:
        env = services[role]["environment"]
        module = env["DJANGO_SETTINGS_MODULE"]
        assert module == "config.settings.production"
        assert importlib.util.find_spec(module) is not None
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert env["STORAGE"] == "s3" and env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
        # Every variable handed to the app is one its settings read.
        for name in env:
            if name not in READ_BY_LIBRARIES:
                assert re.search(rf"[\"']{name}[\"']", settings_text), f"{name} is read by config/settings"
    bucket = services["web"]["environment"]["AWS_STORAGE_BUCKET_NAME"]
    assert f"store/{bucket}" in " ".join(services["createbucket"]["entrypoint"])


def test_the_image_is_slim_pinned_and_runs_without_privileges():
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert bases and all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base) for base in bases), bases
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "requirements/production.txt" in dockerfile
    assert "collectstatic" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "media/"} <= set(ignored)
