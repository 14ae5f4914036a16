"""A real Celery worker for tests, without Redis: on the embedded run's broker, kombu's filesystem
transport in folders of the test's own, or on kombu's in-process memory transport. Messages are
real messages: a countdown waits in the worker, a job waits at the broker until a worker takes it.

The worker runs in a thread of the test process, with the solo pool: tasks run in the thread
that reads the broker. kombu's filesystem transport reads a message file without waiting for its
writer's lock (kombu issue 1551), so a message written by another thread of the same process
while the reader lists the folder can be read empty; the tests that use it write their messages
before the worker starts, and those whose messages come from other threads (a live server's
webhook) use the memory transport."""

from contextlib import ExitStack
from pathlib import Path

from celery import Celery, current_app
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection
from django.db.backends.signals import connection_created


class FilesystemBroker:
    """While open, tasks are sent as messages to files under ``folder`` (or to memory);
    ``start_worker`` starts a worker that consumes them."""

    def __init__(self, folder: Path, *, transport: str = "filesystem") -> None:
        self.folder = folder
        self.transport = transport
        self._stack = ExitStack()
        self._previous = None
        self.app: Celery | None = None
        self.finished: list[str] = []  # the names of the tasks the worker has run, in order

    def __enter__(self) -> "FilesystemBroker":
        messages, control = self.folder / "messages", self.folder / "control"
        messages.mkdir(parents=True, exist_ok=True)
        control.mkdir(parents=True, exist_ok=True)
        # An app of its own, configured like the project's but for the broker, made current in
        # every thread (the live server's too): services send tasks by name through it.
        self._previous = current_app._get_current_object()
        self.app = Celery("atelier-tests", set_as_current=False)
        self.app.config_from_object("django.conf:settings", namespace="CELERY")
        self.app.conf.update(
            broker_url="filesystem://localhost/" if self.transport == "filesystem" else f"memory://{self.folder.name}/",
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
        self.app.set_default()
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
        """Messages in the folder that no worker has taken yet (filesystem transport)."""
        return len(list((self.folder / "messages").glob("*.msg")))

    def start_worker(self, *, queues: list[str]) -> None:
        self._stack.enter_context(
            start_worker(
                self.app,
                pool="solo",
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
            self._previous.set_default()
            self.app.close()


def _read_uncommitted(connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.execute("PRAGMA read_uncommitted = true")
