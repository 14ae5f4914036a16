import threading

import pytest
from PIL import Image

from catalog.models import AIModel
from generation import providers
from generation.providers import ProviderJob, Reporter, Submission
from tests.fakes.providers import GatedProvider


class PaintingGatedProvider(GatedProvider):
    """Shows two in-progress pictures of the job (red, then green), then holds it until the test
    opens the gate. The second waits for ``next_frame``, which is set unless a test paces them."""

    name = "painting"

    def __init__(self) -> None:
        super().__init__()
        self.next_frame = threading.Event()
        self.next_frame.set()

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        reporter.preview(Image.new("RGB", (job.width, job.height), (200, 40, 40)), step=1, total_steps=4)
        self.next_frame.wait(timeout=30)
        reporter.preview(Image.new("RGB", (job.width, job.height), (40, 200, 40)), step=2, total_steps=4)
        return super().submit(job, reporter=reporter)


@pytest.fixture
def painting(db):
    """A model whose jobs show previews and wait for ``painting.gate``."""
    provider = PaintingGatedProvider()
    providers.register(provider)
    AIModel.objects.create(
        id="test/painting",
        name="Test painting",
        provider=provider.name,
        kind="text-to-image",
        min_width=64,
        max_width=2048,
        min_height=64,
        max_height=2048,
        default_width=128,
        default_height=128,
    )
    yield provider
    provider.next_frame.set()
    provider.gate.set()
    providers.unregister(provider.name)


def in_background(call) -> tuple[threading.Thread, dict]:
    """Runs ``call`` in a thread; the dict gets its ``result`` or ``error``."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = call()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.fixture
def worker(settings):
    """A real Celery worker (threads) taking the local and painting jobs from Redis: a request
    that submits one answers before it runs."""
    import redis
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    app.conf.task_always_eager = False
    queues = ["generation.local", f"generation.{PaintingGatedProvider.name}"]
    manager = start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, queues=queues, loglevel="WARNING"
    )
    manager.__enter__()
    yield
    manager.__exit__(None, None, None)
    app.conf.task_always_eager = True
