import threading

import pytest
from django.db import connection

from accounts.services import user_create
from core.errors import InsufficientCredits
from credits.models import CreditAccount, LedgerEntry
from credits.services import credits_debit


def _ledger_sum(user) -> int:
    return sum(LedgerEntry.objects.filter(user=user).values_list("amount", flat=True))


@pytest.mark.django_db
def test_debit_below_zero_is_refused_and_changes_nothing(alice):
    balance = alice.user.credit_account.balance
    with pytest.raises(InsufficientCredits) as raised:
        credits_debit(user=alice.user, amount=balance + 1, reason="too much")
    assert raised.value.extra["credits_remaining"] == balance
    assert CreditAccount.objects.get(user=alice.user).balance == balance
    assert _ledger_sum(alice.user) == balance


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_never_overspend(settings):
    settings.ATELIER_STARTING_CREDITS = 10
    user = user_create(email="racer@example.com", password="a long password")
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def spend():
        barrier.wait()
        try:
            credits_debit(user=user, amount=1, reason="race")
            outcomes.append("ok")
        except InsufficientCredits:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=spend) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == 10
    assert CreditAccount.objects.get(user=user).balance == 0
    assert _ledger_sum(user) == 0


@pytest.mark.django_db
def test_each_user_sees_only_their_own_ledger_and_balance(alice, bob):
    credits_debit(user=alice.user, amount=3, reason="alice spends")
    bob_entries = bob.get("/api/credits/ledger").json()["entries"]
    assert [entry["reason"] for entry in bob_entries] == ["Welcome grant"]
    assert bob.get("/api/credits").json()["credits"]["remaining"] == bob.user.credit_account.balance
    alice_reasons = [entry["reason"] for entry in alice.get("/api/credits/ledger").json()["entries"]]
    assert alice_reasons[0] == "alice spends"
