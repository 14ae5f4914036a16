"""Concurrent debits on one team wallet by capped members, on PostgreSQL with real threads."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.services import user_create
from core.errors import ApplicationError
from credits.models import CreditAccount, LedgerEntry
from credits.team_wallet import team_wallet_admin_adjust, team_wallet_debit
from teams.models import Membership
from teams.services import team_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_members_get_exactly_what_the_wallet_and_their_caps_allow():
    owner = user_create(email="owner@example.com", password="x" * 12)
    team = team_create(user=owner, name="Race").team
    members = [user_create(email=f"m{n}@example.com", password="x" * 12) for n in range(8)]
    Membership.objects.bulk_create(
        [Membership(team=team, user=member, role="member", monthly_credit_cap=3) for member in members]
    )
    team_wallet_admin_adjust(team=team, action="add", amount=20, reason="race", actor=owner)
    barrier = threading.Barrier(len(members))
    outcomes = []

    def spend(member):
        barrier.wait()
        for _ in range(4):
            try:
                team_wallet_debit(team_id=team.pk, member=member, amount=1, reason="race")
                outcomes.append("ok")
            except ApplicationError as error:
                outcomes.append(error.extra["exhausted"])
        connection.close()

    threads = [threading.Thread(target=spend, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # 8 members capped at 3 could take 24; the wallet holds 20: exactly 20 debits, none over a cap.
    assert outcomes.count("ok") == 20
    assert len(outcomes) == 32 and set(outcomes) <= {"ok", "member_monthly_credit_cap", "team_wallet"}
    per_member = LedgerEntry.objects.filter(team=team, kind="debit").values("member").annotate(total=Sum("amount"))
    assert all(-row["total"] <= 3 for row in per_member)
    balance = CreditAccount.objects.get(team=team).balance
    assert balance == 0
    assert LedgerEntry.objects.filter(team=team).aggregate(total=Sum("amount"))["total"] == balance
