import pytest
from django.db import transaction

from credits.services import credits_debit, credits_grant
from credits.signals import credits_low
from tests.helpers import generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard(settings):
    settings.ATELIER_CREDITS_LOW_THRESHOLD = 10
    events = []

    def listener(sender, signal, **kwargs):
        events.append(kwargs)

    credits_low.connect(listener)
    yield events
    credits_low.disconnect(listener)


def test_credits_low_is_sent_once_per_crossing(alice, set_balance, heard, django_capture_on_commit_callbacks):
    user = alice.user
    with django_capture_on_commit_callbacks(execute=True):
        set_balance(user, 12)
        credits_debit(user=user, amount=1, reason="a")  # 11: above
        credits_debit(user=user, amount=2, reason="b")  # 9: crosses
        credits_debit(user=user, amount=1, reason="c")  # 8: still under, no second event
    assert heard == [{"user_id": user.pk, "credits_remaining": 9, "threshold": 10}]
    with django_capture_on_commit_callbacks(execute=True):
        credits_grant(user=user, amount=20, reason="top up")  # 28: back above
        credits_debit(user=user, amount=25, reason="d")  # 3: crosses again
    assert [event["credits_remaining"] for event in heard] == [9, 3]


def test_credits_low_through_a_generation(alice, set_balance, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        set_balance(alice.user, 10)
    assert heard == []
    assert generate(alice, width=64, height=64).status_code == 201
    assert [event["credits_remaining"] for event in heard] == [9]


def test_no_event_when_the_move_rolls_back(alice, set_balance, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        set_balance(alice.user, 10)
        with pytest.raises(RuntimeError), transaction.atomic():
            credits_debit(user=alice.user, amount=5, reason="rolled back")
            raise RuntimeError
    assert heard == []
