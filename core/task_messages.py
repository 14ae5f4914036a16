"""Sending a task: by its name, through the project's Celery app, from any process.

Every app sends its tasks here. A web process, beat or a shell never loads the tasks modules
(only a worker does, when it starts), so a task is named, never looked up in this process's
task registry: the message carries the name and the worker that takes it finds the code.

The app is Celery's current one, which config/celery.py makes the project's configured app in
every thread of every process that loads the settings (a test that runs its own worker makes
its own app current instead).
"""

from celery import current_app


def task_send(
    name: str,
    *,
    args: list | tuple = (),
    kwargs: dict | None = None,
    queue: str | None = None,
    countdown: float | None = None,
    **options,
) -> None:
    """Sends the ``name`` task's message; without ``queue`` the app's routes choose it.

    ``options`` are Celery's message options (``soft_time_limit``, ``time_limit``…).
    """
    app = current_app._get_current_object()
    options = {
        key: value for key, value in {"queue": queue, "countdown": countdown, **options}.items() if value is not None
    }
    if app.conf.task_always_eager:
        # Eager mode (the test settings) runs a task where it is sent: this process is then the
        # worker, and like a worker it loads the tasks modules to find the code.
        if name not in app.tasks:
            app.loader.import_default_modules()
        app.tasks[name].apply_async(args=list(args), kwargs=kwargs or {}, **options)
        return
    # Nobody reads a task's result (the project has no result backend).
    app.send_task(name, args=list(args), kwargs=kwargs or {}, ignore_result=True, **options)


def tasks_run_in_process() -> bool:
    """Whether a sent task runs where it is sent (eager mode, the test settings) instead of in a
    worker."""
    return bool(current_app.conf.task_always_eager)
