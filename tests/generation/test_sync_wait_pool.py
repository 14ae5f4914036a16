"""A request that waits for its generation (sync_mode, Prefer: wait) holds no pooled database
connection while it waits: with a pool of one connection, other requests are still served."""

import threading

import pytest
from django.db import connection

from generation.models import Generation, Status
from tests.helpers import LOCAL_MODEL, wait_until
from tests.ops.test_database_pool import tiny_pool  # noqa: F401 - the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _queued() -> bool:
    try:
        return Generation.objects.filter(status=Status.IN_QUEUE).exists()
    finally:
        connection.close()  # back to the pool: the test holds no connection between its checks


def test_a_waiting_generate_leaves_the_pools_only_connection_to_other_requests(alice, held_tasks, settings, tiny_pool):  # noqa: F811
    # The wait (6 s) outlasts the pool's timeout (2 s): a waiting request that kept the only
    # connection would starve the reads below into 503s.
    settings.ATELIER_SYNC_TIMEOUT_SECONDS = 6
    connection.close()
    connection.settings_dict["OPTIONS"]["pool"]["timeout"] = 2
    answers = {}

    def wait_for_a_job_no_worker_runs():
        body = {"model": LOCAL_MODEL, "prompt": "a lighthouse", "width": 64, "height": 64, "sync_mode": True}
        answers["generate"] = alice.post("/api/generate", body, format="json")

    waiting = threading.Thread(target=wait_for_a_job_no_worker_runs)
    waiting.start()
    try:
        wait_until(_queued, timeout=10, message="the generation was never queued")
        reads = [alice.get("/api/credits").status_code for _ in range(5)]
        # The test client keeps its thread's connection after a request (a server gives it back).
        connection.close()
    finally:
        waiting.join(30)
    assert reads == [200] * 5
    assert answers["generate"].status_code == 202, answers["generate"].content  # still queued when the wait ended
