from datetime import UTC, datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from accounts.services import user_create
from credits.models import LedgerEntry
from credits.selectors import credits_summary
from credits.tasks import refill_monthly
from tests.credits.conftest import balance_of, ledger_sum

pytestmark = pytest.mark.django_db


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def _refills(user) -> list:
    return list(LedgerEntry.objects.filter(user=user, kind="monthly_refill").values_list("period", flat=True))


@pytest.fixture
def member(settings):
    settings.ATELIER_STARTING_CREDITS = 100
    with at(2026, 1, 10, 12):
        return user_create(email="member@example.com", password="a long password")


def test_refill_twice_in_one_period_grants_once(member):
    with at(2026, 2, 1, 0, 5):
        refill_monthly.delay()
        refill_monthly.delay()
    assert len(_refills(member)) == 1
    assert balance_of(member) == ledger_sum(member) == 100


def test_refill_grants_again_across_a_period_boundary(member, alice):
    with at(2026, 2, 1, 0, 5):
        refill_monthly.delay()
    with at(2026, 2, 27, 23, 59):
        refill_monthly.delay()
    with at(2026, 3, 1, 0, 5):
        refill_monthly.delay()
        refill_monthly.delay()
    assert sorted(str(period) for period in _refills(member)) == ["2026-02-01", "2026-03-01"]
    assert balance_of(member) == ledger_sum(member)


def test_reset_policy_expires_what_is_left_then_grants_the_allowance(member, alice, set_balance):
    set_balance(member, 250)
    with at(2026, 2, 1, 0, 5):
        refill_monthly.delay()
    kinds = list(LedgerEntry.objects.filter(user=member).order_by("id").values_list("kind", "amount"))
    assert kinds[-2:] == [("expiry", -250), ("monthly_refill", 100)]
    assert balance_of(member) == ledger_sum(member) == 100
    assert credits_summary(user=member)["last_refill"] == datetime(2026, 2, 1, 0, 5, tzinfo=UTC)


def test_add_policy_adds_the_allowance(member, settings):
    settings.ATELIER_REFILL_POLICY = "add"
    with at(2026, 2, 1, 0, 5):
        refill_monthly.delay()
    assert balance_of(member) == ledger_sum(member) == 200


def test_accounts_opened_this_month_wait_for_the_next(member):
    with at(2026, 2, 10):
        newcomer = user_create(email="new@example.com", password="a long password")
        refill_monthly.delay()
    assert _refills(newcomer) == []
    with at(2026, 3, 1, 1):
        refill_monthly.delay()
    assert len(_refills(newcomer)) == 1


def test_refill_runs_in_batches_until_everyone_is_done(settings):
    settings.ATELIER_REFILL_BATCH_SIZE = 2
    with at(2026, 1, 5):
        users = [user_create(email=f"u{n}@example.com", password="a long password") for n in range(5)]
    with at(2026, 2, 1, 0, 5):
        refill_monthly.delay()
    assert all(len(_refills(user)) == 1 for user in users)


def test_a_second_refill_for_the_same_period_is_refused_by_the_database(member):
    with at(2026, 2, 1, 0, 5):
        refill_monthly.delay()
    entry = LedgerEntry.objects.get(user=member, kind="monthly_refill")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(user=member, kind="monthly_refill", amount=1, balance_after=1, period=entry.period)


def test_the_plan_allowance_is_what_a_refill_grants(member, staff):
    from credits.models import Plan
    from credits.services import credits_plan_set

    credits_plan_set(user=member, plan=Plan.objects.get(slug="pro"))
    with at(2026, 2, 1, 0, 5):
        refill_monthly.delay()
    assert balance_of(member) == 500
