"""Providers for job-system tests: one that blocks until released, one that queues like a
hosted service. Both render real pixels with the local renderer."""

import threading
from collections import Counter

from generation.providers import Provider, ProviderJob, Reporter, Submission
from generation.providers.local import LocalProvider


class GatedProvider(Provider):
    """Inline provider whose submit blocks until the test opens the gate."""

    name = "gated"
    capabilities = frozenset({"text-to-image"})

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.calls: list[str] = []

    def is_configured(self) -> bool:
        return True

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        self.calls.append(job.generation_id)
        self.started.set()
        reporter.progress(10)
        self.gate.wait(timeout=60)
        return LocalProvider().submit(job, reporter=reporter)


class QueuedProvider(Provider):
    """Behaves like a hosted queue: submit answers a request id, poll finishes after N polls."""

    name = "queued"
    capabilities = frozenset({"text-to-image"})

    def __init__(self, polls_needed: int = 3) -> None:
        self.polls_needed = polls_needed
        self.jobs: dict[str, ProviderJob] = {}
        self.polls: Counter[str] = Counter()
        self.cancelled: list[str] = []
        self.submits = 0
        self._lock = threading.Lock()

    def is_configured(self) -> bool:
        return True

    def submit(self, job: ProviderJob, *, reporter: Reporter) -> Submission:
        request_id = f"req-{job.generation_id}"
        with self._lock:
            self.submits += 1
            self.jobs[request_id] = job
        return Submission(request_id=request_id)

    def poll(self, request_id: str, *, job: ProviderJob, reporter: Reporter) -> Submission:
        with self._lock:
            self.polls[request_id] += 1
            count = self.polls[request_id]
        if count < self.polls_needed:
            reporter.progress(count * 100 // self.polls_needed)
            return Submission(request_id=request_id)
        return LocalProvider().submit(self.jobs[request_id], reporter=reporter)

    def cancel(self, request_id: str) -> bool:
        self.cancelled.append(request_id)
        return True
