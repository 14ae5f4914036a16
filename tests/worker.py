"""A real Celery worker for tests, on the embedded run's broker: kombu's filesystem transport in
folders of the test's own (no Redis). Messages are real messages: a countdown waits in the
worker, a job waits in the folder until a worker takes it."""

from contextlib import ExitStack
from pathlib import Path

from celery import Celery, current_app
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection
from django.db.backends.signals import connection_created


class FilesystemBroker:
    """While open, tasks are sent as messages to files under ``folder``; ``start_worker``
    starts a worker (threads of this process) that consumes them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stack = ExitStack()
        self._previous = None
        self.app: Celery | None = None
        self.finished: list[str] = []  # the names of the tasks the worker has run, in order

    def __enter__(self) -> "FilesystemBroker":
        messages, control = self.folder / "messages", self.folder / "control"
        messages.mkdir(parents=True, exist_ok=True)
        control.mkdir(parents=True, exist_ok=True)
        # An app of its own, configured like the project's but for the broker, and made current:
        # services send tasks by name through the current app.
        self._previous = current_app._get_current_object()
        self.app = Celery("atelier-tests", set_as_current=False)
        self.app.config_from_object("django.conf:settings", namespace="CELERY")
        self.app.conf.update(
            broker_url="filesystem://",
            broker_transport_options={
                "data_folder_in": str(messages),
                "data_folder_out": str(messages),
                "control_folder": str(control),
                "polling_interval": 0.05,
            },
            task_always_eager=False,
            worker_enable_remote_control=False,
        )
        self.app.set_current()
        task_postrun.connect(self._task_finished, weak=False)
        if connection.vendor == "sqlite":
            # The test database is SQLite in memory, shared by this thread and the worker's in
            # shared-cache mode, where a reader meets a writer's table lock as an error rather
            # than a wait: the test's reads do not take read locks.
            connection_created.connect(_read_uncommitted, weak=False)
            _read_uncommitted(connection=connection)
        return self

    def _task_finished(self, task=None, **kwargs) -> None:
        self.finished.append(task.name)

    def waiting(self) -> int:
        """Messages in the folder that no worker has taken yet."""
        return len(list((self.folder / "messages").glob("*.msg")))

    def start_worker(self, *, queues: list[str], concurrency: int = 2) -> None:
        self._stack.enter_context(
            start_worker(
                self.app,
                pool="threads",
                concurrency=concurrency,
                perform_ping_check=False,
                queues=queues,
                loglevel="WARNING",
                shutdown_timeout=30,
            )
        )

    def __exit__(self, *exc_info) -> None:
        try:
            self._stack.close()
        finally:
            task_postrun.disconnect(self._task_finished)
            connection_created.disconnect(_read_uncommitted)
            self._previous.set_current()
            self.app.close()


def _read_uncommitted(connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.execute("PRAGMA read_uncommitted = true")
