import io

import pytest
from PIL import Image

from catalog.models import AIModel
from generation import providers
from generation.providers import Reporter
from tests.fakes.providers import GatedProvider, QueuedProvider

JOB_QUEUES = ["generation.local", "generation.gated", "generation.queued"]


class PreviewRecorder:
    """A provider's reporter that keeps what the provider reports: each preview decoded by Pillow
    with its step and total steps, the progress, log lines and request ids."""

    def __init__(self) -> None:
        self.previews: list[tuple[Image.Image, int | None, int | None]] = []
        self.progress: list[int] = []
        self.logs: list[str] = []
        self.request_ids: list[str] = []
        self.reporter = Reporter(
            on_progress=self.progress.append,
            on_log=self.logs.append,
            on_preview=self.preview,
            on_request_id=self.request_ids.append,
        )

    def preview(self, image, *, step=None, total_steps=None) -> None:
        picture = Image.open(io.BytesIO(image))
        picture.load()
        self.previews.append((picture, step, total_steps))


def _model_for(provider_name: str) -> AIModel:
    return AIModel.objects.create(
        id=f"test/{provider_name}",
        name=f"Test {provider_name}",
        provider=provider_name,
        kind="text-to-image",
        min_width=64,
        max_width=2048,
        min_height=64,
        max_height=2048,
        default_width=128,
        default_height=128,
    )


def fast_follow(settings) -> None:
    """Polls and retries within hundredths of a second, so tests follow jobs quickly."""
    settings.ATELIER_POLL_INTERVAL_SECONDS = 0.02
    settings.ATELIER_POLL_INTERVAL_MAX_SECONDS = 0.05
    settings.ATELIER_RETRY_BACKOFF_SECONDS = 0.01
    settings.ATELIER_RETRY_BACKOFF_MAX_SECONDS = 0.02


def fal_configured(settings, *, public_base_url: str = ""):
    """The shared fake fal, reset, with the settings that point the fal provider at it."""
    from tests.fakes.fal import KEY, shared_fake

    fake = shared_fake()
    fake.reset()
    settings.FAL_KEY = KEY
    settings.FAL_WEBHOOK_JWKS_URL = fake.jwks_url
    settings.PUBLIC_BASE_URL = public_base_url
    fast_follow(settings)
    return fake


def replicate_configured(settings, *, public_base_url: str = ""):
    """A started fake Replicate and the settings that point the provider at it."""
    from tests.fakes.replicate import TOKEN, FakeReplicate

    fake = FakeReplicate().start()
    settings.REPLICATE_API_TOKEN = TOKEN
    settings.REPLICATE_BASE_URL = fake.url
    settings.PUBLIC_BASE_URL = public_base_url
    fast_follow(settings)
    return fake


@pytest.fixture
def gated(db):
    provider = GatedProvider()
    providers.register(provider)
    _model_for(provider.name)
    yield provider
    provider.gate.set()
    providers.unregister(provider.name)


@pytest.fixture
def queued(db, settings):
    settings.ATELIER_POLL_INTERVAL_SECONDS = 0.02
    settings.ATELIER_POLL_INTERVAL_MAX_SECONDS = 0.1
    provider = QueuedProvider()
    providers.register(provider)
    _model_for(provider.name)
    yield provider
    providers.unregister(provider.name)


@pytest.fixture
def held_tasks(settings):
    """Task messages go to the broker and wait there: the test runs each step itself."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture
def broker(settings):
    """Real Redis as the broker, tasks sent as messages (not run in process)."""
    import redis

    from config.celery import app

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


@pytest.fixture
def start_worker(broker):
    """Starts a real Celery worker (thread pool) consuming the job queues from Redis."""
    from celery.contrib.testing.worker import start_worker as celery_start_worker

    stack = []

    def start(concurrency: int = 4):
        manager = celery_start_worker(
            broker,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=False,
            queues=JOB_QUEUES,
            loglevel="WARNING",
            shutdown_timeout=30,
        )
        manager.__enter__()
        stack.append(manager)

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@pytest.fixture
def filesystem_broker(tmp_path):
    """Tasks sent as real messages to the embedded run's filesystem broker (tests/worker.py);
    ``filesystem_broker.start_worker(queues=...)`` starts a real worker on them."""
    from tests.worker import FilesystemBroker

    with FilesystemBroker(tmp_path / "broker") as broker:
        yield broker


@pytest.fixture
def memory_broker(tmp_path):
    """As ``filesystem_broker``, on kombu's in-process memory transport: for messages sent from
    other threads of the test process, such as a live server's (tests/worker.py says why)."""
    from tests.worker import FilesystemBroker

    with FilesystemBroker(tmp_path / "broker", transport="memory") as broker:
        yield broker
