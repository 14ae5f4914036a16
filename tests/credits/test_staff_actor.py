"""Every ledger entry a staff user causes names them: adjustments in the admin and through
``POST /admin/api/users/{id}/credits``, and refunds of generations."""

import pytest
from django.urls import reverse

from credits.models import LedgerEntry
from tests.credits.conftest import balance_of, ledger_sum
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("action", "amount", "change"), [("add", 7, 7), ("subtract", 2, -2), ("set", 0, None)])
def test_an_adjustment_through_the_admin_api_names_the_staff_user(staff, alice, action, amount, change):
    before = balance_of(alice.user)
    response = staff.post(
        f"/admin/api/users/{alice.user.pk}/credits", {"action": action, "amount": amount, "reason": "support"}
    )
    assert response.status_code == 200, response.content
    entry = LedgerEntry.objects.get(pk=response.json()["ledger_entry_id"])
    assert (entry.kind, entry.actor, entry.reason) == ("admin_adjustment", staff.user, "support")
    assert balance_of(alice.user) == (before + change if change is not None else amount) == ledger_sum(alice.user)


@pytest.mark.parametrize("action", ["add_credits", "subtract_credits", "set_credits"])
def test_an_adjustment_in_the_admin_names_the_staff_user_in_the_ledger_list(staff, alice, action):
    browser = signed_in(staff.user)
    response = browser.post(
        reverse("admin:credits_creditaccount_changelist"),
        {
            "action": action,
            "_selected_action": [alice.user.credit_account.pk],
            "index": 0,
            "amount": 1,
            "reason": "goodwill",
        },
        follow=True,
    )
    assert "Adjusted 1 account(s)." in response.content.decode()
    entry = LedgerEntry.objects.filter(user=alice.user).first()
    assert (entry.kind, entry.actor) == ("admin_adjustment", staff.user)
    # The ledger's admin list shows who, and finds the entries by the staff user's email.
    listed = browser.get(reverse("admin:credits_ledgerentry_changelist") + f"?q={staff.user.email}")
    html = listed.content.decode()
    assert listed.status_code == 200 and "goodwill" in html and staff.user.email in html
