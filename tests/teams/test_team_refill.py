"""A team's wallet on a plan is refilled monthly by the same task as everyone's; without a plan
it keeps what staff gave it."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db.models import Sum

from accounts.services import user_create
from credits.models import CreditAccount, LedgerEntry, Plan
from credits.tasks import refill_monthly
from credits.team_wallet import team_wallet_admin_adjust, team_wallet_plan_set
from teams.services import team_create

pytestmark = pytest.mark.django_db


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def test_a_team_on_a_plan_is_refilled_once_a_month_and_one_without_is_left_alone(settings):
    settings.ATELIER_REFILL_POLICY = "add"
    with at(2026, 1, 10, 12):
        owner = user_create(email="owner@example.com", password="a long password")
        planned = team_create(user=owner, name="Planned").team
        plain = team_create(user=owner, name="Plain").team
        plan = Plan.objects.create(name="Team", slug="team", monthly_credits=500)
        team_wallet_plan_set(team=planned, plan=plan)
        team_wallet_admin_adjust(team=plain, action="add", amount=40, reason="Budget", actor=owner)
    with at(2026, 2, 1, 1):
        refill_monthly()
        refill_monthly()
    planned_wallet = CreditAccount.objects.get(team=planned)
    assert planned_wallet.balance == 500
    refills = LedgerEntry.objects.filter(team=planned, kind="monthly_refill")
    assert [(entry.period.isoformat(), entry.amount) for entry in refills] == [("2026-02-01", 500)]
    assert CreditAccount.objects.get(team=plain).balance == 40
    for team in (planned, plain):
        total = LedgerEntry.objects.filter(team=team).aggregate(total=Sum("amount"))["total"]
        assert total == CreditAccount.objects.get(team=team).balance
    # The owner's personal account was refilled as before, on its own.
    assert LedgerEntry.objects.filter(user=owner, kind="monthly_refill").count() == 1
