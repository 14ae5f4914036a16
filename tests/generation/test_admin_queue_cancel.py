"""Staff cancel a user's waiting jobs, or a provider's whole queue, from the admin: the list's
filters (status, provider, a user's email) and its bulk cancel over every row they match. Each job
is refunded once; running jobs, other users' and other queues' are not touched."""

import pytest
from django.urls import reverse

from credits.models import LedgerEntry
from generation.models import Generation, Status
from generation.state import transition
from tests.helpers import generate, signed_in

pytestmark = pytest.mark.django_db


def _submitted(client, model: str | None = None, **payload) -> str:
    if model:
        payload["model"] = model
    response = generate(client, width=64, height=64, **payload)
    assert response.status_code == 201, response.content
    return response.json()["generation"]["id"]


def _status(generation_id: str) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=generation_id)


def _refunds(generation_id: str) -> int:
    return LedgerEntry.objects.filter(generation_id=generation_id, kind=LedgerEntry.Kind.REFUND).count()


def _cancel_all_matching(staff, query: str) -> list[str]:
    """The changelist filtered by ``query``, every matching row selected ("select all"), and the
    bulk cancel: the messages staff see."""
    url = f"{reverse('admin:generation_generation_changelist')}?{query}"
    response = signed_in(staff.user).post(
        url,
        {"action": "cancel_generations", "select_across": "1", "index": "0", "_selected_action": ["x"]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def queues(alice, bob, held_tasks, queued):
    """Waiting jobs of Alice and Bob on the local queue, one of Alice's running there, and one of
    Alice's waiting on another provider's queue; their messages wait at the broker."""
    jobs = {
        "alice_waiting": [_submitted(alice), _submitted(alice)],
        "alice_running": _submitted(alice),
        "bob_waiting": _submitted(bob),
        "alice_other_queue": _submitted(alice, model="test/queued"),
    }
    assert transition(generation_id=jobs["alice_running"], to=Status.PROCESSING)
    return jobs


def test_staff_cancel_every_waiting_job_of_a_provider_queue(staff, queues):
    shown = _cancel_all_matching(staff, "status__exact=in_queue&provider__exact=local")

    assert "Cancelled 3 generation(s); their credits were refunded." in shown
    for generation_id in [*queues["alice_waiting"], queues["bob_waiting"]]:
        assert _status(generation_id) == Status.CANCELLED
        assert _refunds(generation_id) == 1
    assert _status(queues["alice_running"]) == Status.PROCESSING
    assert _status(queues["alice_other_queue"]) == Status.IN_QUEUE


def test_staff_cancel_every_waiting_job_of_one_user(staff, queues):
    shown = _cancel_all_matching(staff, "status__exact=in_queue&q=alice%40example.com")

    assert "Cancelled 3 generation(s); their credits were refunded." in shown
    for generation_id in [*queues["alice_waiting"], queues["alice_other_queue"]]:
        assert _status(generation_id) == Status.CANCELLED
        assert _refunds(generation_id) == 1
    # Bob's job and Alice's running one go on.
    assert _status(queues["bob_waiting"]) == Status.IN_QUEUE
    assert _status(queues["alice_running"]) == Status.PROCESSING
    assert _refunds(queues["bob_waiting"]) == 0
