import os

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.services import api_key_create, user_create


def pytest_collection_modifyitems(config, items):
    """Tests that need PostgreSQL or Redis run where those are configured, and say so elsewhere."""
    have_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    have_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not have_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not have_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True, scope="session")
def _celery_tasks_loaded():
    """Services send tasks by name; eager mode runs them from the app's registry, so every app's
    tasks module is loaded first, as a worker loads them when it starts."""
    from config.celery import app

    app.loader.import_default_modules()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from core.process_cache import process_caches_clear

    cache.clear()
    process_caches_clear()
    yield


class Client(APIClient):
    """An API client whose requests run their on-commit callbacks, as a real request's would.

    Tests run inside a transaction that never commits; without this, work enqueued on commit
    (the generation run) would never start.
    """

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


def _user_with_key(email: str, **extra):
    user = user_create(email=email, password="correct horse battery", **extra)
    _, secret = api_key_create(user=user, name="tests")
    client = Client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.user = user
    client.secret = secret
    return client


@pytest.fixture
def alice(db):
    return _user_with_key("alice@example.com", full_name="Alice")


@pytest.fixture
def bob(db):
    return _user_with_key("bob@example.com", full_name="Bob")


@pytest.fixture
def staff(db):
    return _user_with_key("staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def anon(db):
    return Client()


# The data migrations that seed reference data, and their seeding functions.
SEED_MIGRATIONS = [
    ("catalog.migrations.0002_seed_models", "seed"),
    ("catalog.migrations.0004_seed_catalog", "seed"),
    ("catalog.migrations.0005_local_image_kinds", "seed"),
    ("catalog.migrations.0006_workflow_templates", "seed"),
    ("credits.migrations.0003_seed_plans", "seed_plans"),
]


@pytest.fixture(autouse=True)
def _catalog_after_flush(request):
    """Transactional tests flush every table, seeded data too: seed it again as the migrations do."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    for module, function in SEED_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)
