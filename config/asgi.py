"""The ASGI application: one kind of web node for the pages, the API and the live events.

    gunicorn config.asgi -k uvicorn_worker.UvicornWorker -w 4 -b 0.0.0.0:8000

Django's own handler, with these changes in where a request's synchronous work runs (its sync
views, the ORM, the hops of Django's middleware, in one thread per request as asgiref requires):

- a request for a synchronous view (every view of the project: DRF has no async views) runs the
  middleware chain and the view in one visit to its thread, as a WSGI server runs them, instead
  of crossing between the event loop and the thread at each middleware hook that Django's own
  middleware run in a thread (a bare GET crossed 14 times); a request for an async view runs
  the async-capable chain on the loop;
- the thread is reused from request to request, as a WSGI server's threads are, instead of one
  started for each request and ended after it (which cost more than the request's hops);
- a synchronous stream (a file download) is read as it is sent, a batch of blocks per visit to
  the request's thread, where Django's handler would read it whole into memory first;
- a live-event stream gives its thread back once its view has answered: the stream waits on the
  event loop, and a thousand open streams hold no thread.
"""

import os
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextvars import ContextVar

from asgiref.sync import ThreadSensitiveContext, iscoroutinefunction, sync_to_async

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler  # noqa: E402
from django.core.handlers.base import BaseHandler  # noqa: E402
from django.db import connections  # noqa: E402
from django.urls import Resolver404, get_resolver  # noqa: E402

# Idle request threads a process keeps for the next requests; a burst starts more, and those
# past this number end once their request is done.
IDLE_REQUEST_THREADS = 32


class _RequestThreads:
    """The idle request threads of the process (single-worker executors)."""

    def __init__(self, keep: int):
        self.keep = keep
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()

    def take(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(executor)
                return
        # Connections kept from request to request (CONN_MAX_AGE without the pool) end with it.
        executor.submit(connections.close_all)
        executor.shutdown(wait=False)


class _RequestThread(Executor):
    """One request's thread: the executor asgiref runs the request's thread-sensitive calls on.
    It takes an idle thread at the request's first such call, and gives it back when the request
    no longer needs it; a later call (the stream's end) takes one again."""

    def __init__(self, threads: _RequestThreads):
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if self._executor is None:
            self._executor = self._threads.take()
        return self._executor.submit(fn, *args, **kwargs)

    def release(self) -> None:
        if self._executor is not None:
            self._threads.give_back(self._executor)
            self._executor = None


_request_thread: ContextVar[_RequestThread] = ContextVar("request_thread")


class ASGIHandler(DjangoASGIHandler):
    threads = _RequestThreads(IDLE_REQUEST_THREADS)

    def __init__(self):
        super().__init__()
        # The same middleware, loaded as WSGI loads them: the chain for synchronous views.
        self.sync_chain = BaseHandler()
        self.sync_chain.load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        request_thread = _RequestThread(self.threads)
        token = _request_thread.set(request_thread)
        try:
            # asgiref's documented way to run a block's thread-sensitive calls on an executor of
            # the caller's (Django's handler uses a new thread per request instead).
            async with ThreadSensitiveContext(executor=request_thread):
                await self.handle(scope, receive, send)
        finally:
            _request_thread.reset(token)
            request_thread.release()

    async def get_response_async(self, request):
        if _view_is_async(request):
            return await super().get_response_async(request)
        return await sync_to_async(self.sync_chain.get_response)(request)

    async def run_get_response(self, request):
        response = await super().run_get_response(request)
        if response.streaming and not response.is_async:
            # A file download (FileResponse) or another synchronous stream: Django would read it
            # whole into memory before sending a byte of it; it is read as it is sent instead.
            response.streaming_content = _read_as_sent(response.streaming_content)
        elif response.streaming and await sync_to_async(_close_connections)():
            # The stream waits on the event loop: its thread, whose connections are closed
            # (back in the pool), serves other requests meanwhile.
            _request_thread.get().release()
        return response


# How much of a synchronous stream one visit to the request's thread reads (a FileResponse
# yields blocks of 4 KB: one visit per block would cost more than the bytes).
STREAM_READ_BYTES = 256 * 1024


async def _read_as_sent(chunks):
    """A synchronous stream's chunks, read on the request's thread a batch at a time."""
    chunks = iter(chunks)
    while batch := await sync_to_async(_take)(chunks, STREAM_READ_BYTES):
        yield batch


def _take(chunks, size: int) -> bytes:
    taken, count = [], 0
    for chunk in chunks:
        taken.append(chunk)
        count += len(chunk)
        if count >= size:
            break
    return b"".join(taken)


def _view_is_async(request) -> bool:
    """Whether the request's view is a coroutine function (a path no view matches is answered by
    the synchronous chain's 404)."""
    try:
        match = get_resolver().resolve(request.path_info)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)


def _close_connections() -> bool:
    """Closes the thread's database connections; False if one is inside a transaction."""
    free = True
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            free = False
        else:
            connection.close()
    return free


django.setup(set_prefix=False)
application = ASGIHandler()
