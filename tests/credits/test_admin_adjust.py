import pytest

from credits.models import LedgerEntry
from tests.credits.conftest import balance_of, ledger_sum
from tests.helpers import assert_envelope

pytestmark = pytest.mark.django_db


def _adjust(client, user, **body):
    return client.post(f"/admin/api/users/{user.pk}/credits", body, format="json")


def test_staff_adds_credits_with_a_reason(staff, alice):
    old = balance_of(alice.user)
    response = _adjust(staff, alice.user, action="add", amount=100, reason="Promotional bonus")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert (body["user_id"], body["old_credits"], body["new_credits"]) == (alice.user.pk, old, old + 100)
    assert (body["action"], body["amount"], body["reason"]) == ("add", 100, "Promotional bonus")
    entry = LedgerEntry.objects.filter(user=alice.user).first()
    assert (entry.kind, entry.amount, entry.actor, entry.reason) == (
        "admin_adjustment",
        100,
        staff.user,
        "Promotional bonus",
    )
    assert alice.get("/api/credits").json()["credits"]["remaining"] == old + 100


def test_subtract_and_set_are_ledger_entries(staff, alice):
    old = balance_of(alice.user)
    assert _adjust(staff, alice.user, action="subtract", amount=30, reason="abuse").json()["new_credits"] == old - 30
    body = _adjust(staff, alice.user, action="set", amount=7, reason="support ticket 12").json()
    assert (body["old_credits"], body["new_credits"]) == (old - 30, 7)
    assert balance_of(alice.user) == ledger_sum(alice.user) == 7
    amounts = list(
        LedgerEntry.objects.filter(user=alice.user, kind="admin_adjustment").values_list("amount", flat=True)
    )
    assert amounts == [7 - (old - 30), -30]


def test_the_user_can_be_named_by_uuid(staff, alice):
    response = staff.post(
        f"/admin/api/users/{alice.user.uuid}/credits", {"action": "add", "amount": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("ref", ["²", "1²", "99999999999999999999999", "not-a-user"])
def test_a_user_id_that_is_no_number_or_uuid_is_404(staff, ref):
    response = staff.post(
        f"/admin/api/users/{ref}/credits", {"action": "add", "amount": 1, "reason": "x"}, format="json"
    )
    assert_envelope(response, 404)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_reason_is_required(staff, alice, reason):
    old = balance_of(alice.user)
    body = {"action": "add", "amount": 5}
    if reason is not None:
        body["reason"] = reason
    assert_envelope(staff.post(f"/admin/api/users/{alice.user.pk}/credits", body, format="json"), 400)
    assert balance_of(alice.user) == old


def test_subtract_below_zero_is_refused(staff, alice):
    old = balance_of(alice.user)
    body = assert_envelope(_adjust(staff, alice.user, action="subtract", amount=old + 1, reason="too much"), 400)
    assert body["credits_remaining"] == old
    assert balance_of(alice.user) == old
    assert not LedgerEntry.objects.filter(kind="admin_adjustment").exists()


def test_bad_action_and_amount_are_refused(staff, alice):
    assert_envelope(_adjust(staff, alice.user, action="multiply", amount=2, reason="x"), 400)
    assert_envelope(_adjust(staff, alice.user, action="add", amount=-5, reason="x"), 400)
    assert_envelope(_adjust(staff, alice.user, action="add", amount=0, reason="x"), 400)


def test_only_staff_may_adjust(alice, bob, anon):
    assert_envelope(_adjust(bob, alice.user, action="add", amount=5, reason="gift to myself"), 403)
    assert_envelope(_adjust(anon, alice.user, action="add", amount=5, reason="x"), 401)


def test_unknown_user_is_404(staff):
    assert_envelope(
        staff.post("/admin/api/users/999999/credits", {"action": "add", "amount": 1, "reason": "x"}, format="json"), 404
    )
    assert_envelope(
        staff.post("/admin/api/users/nope/credits", {"action": "add", "amount": 1, "reason": "x"}, format="json"), 404
    )


def _admin_action(staff, user, action, **fields):
    staff.force_login(staff.user)
    account = user.credit_account
    return staff.post(
        "/admin/credits/creditaccount/",
        {"action": action, "_selected_action": [account.pk], "index": 0, **fields},
        follow=True,
    )


def test_django_admin_action_adds_credits_with_reason(staff, alice):
    old = balance_of(alice.user)
    response = _admin_action(staff, alice.user, "add_credits", amount=25, reason="goodwill")
    assert response.status_code == 200
    assert balance_of(alice.user) == old + 25
    entry = LedgerEntry.objects.filter(user=alice.user).first()
    assert (entry.kind, entry.actor, entry.reason) == ("admin_adjustment", staff.user, "goodwill")


def test_django_admin_action_without_reason_changes_nothing(staff, alice):
    old = balance_of(alice.user)
    response = _admin_action(staff, alice.user, "subtract_credits", amount=5, reason="")
    assert "A reason is required" in response.content.decode()
    assert balance_of(alice.user) == old


def test_django_admin_action_refuses_below_zero_and_sets(staff, alice):
    old = balance_of(alice.user)
    response = _admin_action(staff, alice.user, "subtract_credits", amount=old + 5, reason="x")
    assert "Cannot subtract below zero" in response.content.decode()
    _admin_action(staff, alice.user, "set_credits", amount=3, reason="reset by support")
    assert balance_of(alice.user) == ledger_sum(alice.user) == 3


def test_django_admin_action_changes_the_plan(staff, alice):
    from credits.models import Plan

    pro = Plan.objects.get(slug="pro")
    _admin_action(staff, alice.user, "change_plan", plan=pro.pk)
    assert alice.get("/api/credits").json()["credits"]["plan"] == "Pro"
