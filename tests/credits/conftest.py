import pytest
from django.db.models import Sum

from credits.models import CreditAccount, LedgerEntry
from credits.services import credits_admin_adjust


def ledger_sum(user) -> int:
    return LedgerEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0


def balance_of(user) -> int:
    return CreditAccount.objects.get(user=user).balance


@pytest.fixture
def set_balance(staff):
    def set_to(user, amount: int) -> None:
        credits_admin_adjust(user=user, action="set", amount=amount, reason="test setup", actor=staff.user)

    return set_to
