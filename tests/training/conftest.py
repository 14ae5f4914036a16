import pytest


@pytest.fixture
def held_tasks():
    """Task messages wait at the (in-memory) broker: jobs stay queued until a test runs them."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _small_rhythm(settings):
    settings.ATELIER_TRAINING_CHECKPOINT_EVERY = 20
