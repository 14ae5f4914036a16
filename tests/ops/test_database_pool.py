"""The database pool under pressure: a request waits for a pooled connection, and one that
cannot get one in time is answered 503 in the envelope with Retry-After, never 500.

The test process runs without a pool (config/settings/test.py); these tests give its default
connection a pool of one connection and hold that connection in another thread.
"""

import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from django.db import OperationalError, connection, connections
from django.test import Client as DjangoClient

from core.exception_handler import database_busy_error
from generation.models import Generation, Status
from generation.state import transition
from tests.helpers import LOCAL_MODEL, asgi_server_running, assert_envelope

POOL_TIMEOUT = 0.5


@pytest.fixture
def tiny_pool(settings):
    """The default connection with a pool of one connection, for every thread of this process."""
    connections.close_all()
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options["pool"] = {"min_size": 1, "max_size": 1, "timeout": POOL_TIMEOUT}
    try:
        yield
    finally:
        connections.close_all()
        connection.close_pool()
        options.pop("pool", None)


@contextmanager
def connection_held(release_after: float | None = None):
    """Another thread takes the pool's only connection and keeps it (for ``release_after``
    seconds, else until the block ends)."""
    taken, release = threading.Event(), threading.Event()

    def hold():
        connection.ensure_connection()
        taken.set()
        release.wait(release_after if release_after is not None else 30)
        connection.close()  # back to the pool

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join(10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_that_gets_no_pooled_connection_in_time_is_answered_503_with_retry_after(alice, tiny_pool):
    with connection_held():
        began = time.monotonic()
        response = alice.get("/api/generate")
        waited = time.monotonic() - began
    body = assert_envelope(response, 503, "service_busy")
    assert int(response["Retry-After"]) >= 1
    assert body["retry_after"] == int(response["Retry-After"])
    # It waited for the pool's timeout, not longer.
    assert POOL_TIMEOUT <= waited < POOL_TIMEOUT + 5
    # Once the connection is back, the same request is served.
    assert alice.get("/api/generate").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_waits_for_a_pooled_connection_rather_than_failing(alice, tiny_pool):
    with connection_held(release_after=POOL_TIMEOUT / 3):
        response = alice.get("/api/generate")
    assert response.status_code == 200, response.content


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_signed_in_browser_whose_session_cannot_be_read_gets_503_not_500(alice, tiny_pool):
    # The session is read by a middleware, before any view: Django renders what a middleware
    # raises as a 500 unless told otherwise.
    browser = DjangoClient(raise_request_exception=False)
    browser.force_login(alice.user)
    connections.close_all()
    with connection_held():
        response = browser.get("/api/generate")
    assert_envelope(response, 503, "service_busy")
    assert response["Retry-After"]


@pytest.fixture
def asgi_server():
    with asgi_server_running() as url:
        yield url


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_open_stream_of_a_signed_in_browser_holds_no_pooled_connection(alice, tiny_pool, asgi_server):
    generation = Generation.objects.create(
        user=alice.user, model_id=LOCAL_MODEL, provider="local", status=Status.PROCESSING, width=64, height=64
    )
    browser = DjangoClient()
    browser.force_login(alice.user)
    cookies = {name: morsel.value for name, morsel in browser.cookies.items()}
    connections.close_all()
    opened = threading.Event()

    def watch():
        # The session is saved on the way out of every request (SESSION_SAVE_EVERY_REQUEST),
        # after the view has let its connection go.
        with httpx.stream(
            "GET", f"{asgi_server}/api/generate/{generation.pk}/events", cookies=cookies, timeout=30
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("retry:"):
                    opened.set()

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        watcher.start()
        assert opened.wait(10)
        # While the stream is open, the pool's only connection is free for the next request.
        response = httpx.get(
            f"{asgi_server}/api/generate", headers={"Authorization": f"Bearer {alice.secret}"}, timeout=10
        )
        assert response.status_code == 200, response.text
    finally:
        transition(generation_id=generation.pk, to=Status.COMPLETED)
        connections.close_all()
        watcher.join(10)
    assert not watcher.is_alive()


def test_postgres_refusing_another_client_is_a_busy_service_not_a_server_error():
    refused = OperationalError("connection failed: FATAL:  sorry, too many clients already")
    assert database_busy_error(refused).http_status == 503
    assert database_busy_error(OperationalError("column x does not exist")) is None
    assert database_busy_error(ValueError("too many clients")) is None
