"""A request reads its user's plan quotas once: the hourly check and the daily check of one
request share one read, and the next request, with its own user object, reads the plan again."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credits.models import Plan
from credits.selectors import quota_limits

pytestmark = pytest.mark.django_db


@pytest.fixture
def uncached_plans(settings):
    """No process cache in front of the plans: every read of a plan is a query."""
    settings.ATELIER_PROCESS_CACHE_SECONDS = 0


def a_request_user(client):
    """The user object one request works with (each request loads its own)."""
    return get_user_model().objects.get(pk=client.user.pk)


def test_the_checks_of_one_request_read_the_plan_once(alice, uncached_plans, django_assert_num_queries):
    user = a_request_user(alice)
    with CaptureQueriesContext(connection) as first:
        limits = quota_limits(user=user)
    assert first.captured_queries
    with django_assert_num_queries(0):
        assert quota_limits(user=user) == limits


def test_the_next_request_sees_a_changed_plan(alice, uncached_plans):
    assert quota_limits(user=a_request_user(alice))["daily_generations"] != 7
    Plan.objects.filter(accounts__user=alice.user).update(daily_generation_quota=7, hourly_request_quota=9)
    assert quota_limits(user=a_request_user(alice)) == {"daily_generations": 7, "hourly_requests": 9}


def test_the_quotas_are_not_kept_on_the_user_object(alice):
    user = a_request_user(alice)
    before = set(vars(user))
    quota_limits(user=user)
    assert set(vars(user)) == before
