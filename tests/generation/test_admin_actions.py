"""The operator's Cancel, Retry and Refund buttons on a generation's admin page: a confirmation
page, a POST with the CSRF token, a message; the ledger entries they write name the staff user."""

import pytest
from django.test import Client
from django.urls import reverse

from credits.models import CreditAccount, LedgerEntry
from generation.models import Generation
from generation.tasks import run_generation
from tests.helpers import generate

pytestmark = pytest.mark.django_db


def _made(client, **payload) -> Generation:
    response = generate(client, **payload)
    assert response.status_code == 201, response.content
    run_generation(response.json()["generation"]["id"])
    return Generation.objects.get(pk=response.json()["generation"]["id"])


def _balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


@pytest.fixture
def browser(staff):
    """The staff user's browser, which sends the CSRF token as the admin's forms do."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff.user)
    return client


def _operate(browser, generation, operation: str):
    """Opens the confirmation page from the generation's page, then confirms it as the form does."""
    page = browser.get(reverse("admin:generation_generation_change", args=[generation.pk]))
    url = reverse("admin:generation_generation_operate", args=[generation.pk, operation])
    assert page.status_code == 200 and f'href="{url}"' in page.content.decode()
    confirm = browser.get(url)
    assert confirm.status_code == 200
    token = confirm.context["csrf_token"]
    response = browser.post(url, {"csrfmiddlewaretoken": str(token)}, follow=True)
    assert response.status_code == 200
    return confirm, response


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_page_has_cancel_retry_and_refund_buttons(browser, alice):
    generation = _made(alice)
    html = browser.get(reverse("admin:generation_generation_change", args=[generation.pk])).content.decode()
    for operation, label in (("cancel", "Cancel"), ("retry", "Retry"), ("refund", "Refund")):
        url = reverse("admin:generation_generation_operate", args=[generation.pk, operation])
        assert f'<a href="{url}">{label}</a>' in html


def test_a_post_without_the_csrf_token_is_refused(browser, alice, held_tasks):
    generation = Generation.objects.get(pk=generate(alice).json()["generation"]["id"])
    response = browser.post(reverse("admin:generation_generation_operate", args=[generation.pk, "cancel"]))
    assert response.status_code == 403
    generation.refresh_from_db()
    assert generation.status == "in_queue"


def test_cancel_cancels_a_queued_generation_and_refunds_it_in_the_staff_users_name(browser, staff, alice, held_tasks):
    before = _balance(alice.user)
    generation = Generation.objects.get(pk=generate(alice).json()["generation"]["id"])
    assert generation.status == "in_queue" and _balance(alice.user) == before - generation.cost

    confirm, response = _operate(browser, generation, "cancel")

    assert "Yes, cancel it" in confirm.content.decode()
    assert f"Cancelled generation {generation.pk}" in " ".join(_messages(response))
    generation.refresh_from_db()
    assert generation.status == "cancelled" and generation.error == "Cancelled by staff"
    assert _balance(alice.user) == before
    refund = LedgerEntry.objects.get(generation=generation, kind="refund")
    assert refund.actor == staff.user and refund.amount == generation.cost
    assert staff.user.email in refund.reason


def test_cancel_of_a_completed_generation_says_why_and_changes_nothing(browser, alice):
    generation = _made(alice)
    before = _balance(alice.user)

    confirm, response = _operate(browser, generation, "cancel")

    assert "it is already completed" in confirm.content.decode()
    assert any("Not cancelled" in m and "completed" in m for m in _messages(response))
    generation.refresh_from_db()
    assert generation.status == "completed" and _balance(alice.user) == before


def test_refund_of_a_completed_generation_names_the_staff_user_on_the_ledger_entry(browser, staff, alice):
    before = _balance(alice.user)
    generation = _made(alice)
    assert _balance(alice.user) == before - generation.cost

    _confirm, response = _operate(browser, generation, "refund")

    assert f"Refunded {generation.cost} credit(s)" in " ".join(_messages(response))
    assert _balance(alice.user) == before
    refund = LedgerEntry.objects.get(generation=generation, kind="refund")
    assert (refund.actor, refund.amount, refund.balance_after) == (staff.user, generation.cost, before)


def test_a_second_refund_says_it_was_refunded_already(browser, alice):
    generation = _made(alice)
    _operate(browser, generation, "refund")
    balance = _balance(alice.user)

    confirm, response = _operate(browser, generation, "refund")

    assert "refunded already" in confirm.content.decode()
    assert any("Not refunded" in m and "refunded already" in m for m in _messages(response))
    assert _balance(alice.user) == balance
    assert LedgerEntry.objects.filter(generation=generation, kind="refund").count() == 1


def test_refund_of_a_queued_generation_says_to_cancel_it(browser, alice, held_tasks):
    generation = Generation.objects.get(pk=generate(alice).json()["generation"]["id"])
    _confirm, response = _operate(browser, generation, "refund")
    assert any("cancel it instead" in m for m in _messages(response))
    assert not LedgerEntry.objects.filter(generation=generation, kind="refund").exists()


def test_retry_of_a_failed_generation_starts_a_new_charged_one(browser, alice):
    from generation.services import generation_fail

    failed = _made(alice, seed=7)
    Generation.objects.filter(pk=failed.pk).update(status="processing")
    generation_fail(generation_id=failed.pk, message="provider down")
    before = _balance(alice.user)

    _confirm, response = _operate(browser, failed, "retry")

    again = Generation.objects.exclude(pk=failed.pk).get()
    # Queued: its run message goes out when the request's transaction commits.
    assert (again.user, again.prompt, again.seed, again.status) == (alice.user, failed.prompt, 7, "in_queue")
    assert f"Started generation {again.pk}, a retry of {failed.pk}" in " ".join(_messages(response))
    # The follow landed on the new generation's page.
    assert response.redirect_chain[-1][0] == reverse("admin:generation_generation_change", args=[again.pk])
    assert _balance(alice.user) == before - again.cost


def test_retry_of_a_completed_generation_says_why(browser, alice):
    generation = _made(alice)

    confirm, response = _operate(browser, generation, "retry")

    why = "it is completed; only a failed or cancelled generation can be retried"
    assert why in confirm.content.decode()
    assert 'type="submit"' not in confirm.content.decode().split('id="content-main"')[1]
    assert any(why in m for m in _messages(response))
    assert Generation.objects.count() == 1


def test_the_bulk_actions_say_why(staff, alice):
    from tests.helpers import signed_in

    completed = _made(alice)
    response = signed_in(staff.user).post(
        reverse("admin:generation_generation_changelist"),
        {"action": "retry_generations", "_selected_action": [str(completed.pk)]},
        follow=True,
    )
    shown = _messages(response)
    assert "Started 0 new generation(s)." in shown
    assert (
        f"Not retried: {completed.pk}: it is completed; only a failed or cancelled generation can be retried." in shown
    )

    response = signed_in(staff.user).post(
        reverse("admin:generation_generation_changelist"),
        {"action": "cancel_generations", "_selected_action": [str(completed.pk)]},
        follow=True,
    )
    assert any("Not cancelled" in m and "completed" in m for m in _messages(response))


def test_the_bulk_refund_names_the_staff_user(staff, alice):
    from tests.helpers import signed_in

    generation = _made(alice)
    signed_in(staff.user).post(
        reverse("admin:generation_generation_changelist"),
        {"action": "refund_generations", "_selected_action": [str(generation.pk)]},
    )
    assert LedgerEntry.objects.get(generation=generation, kind="refund").actor == staff.user


def test_a_user_without_staff_rights_cannot_operate(alice):
    from tests.helpers import signed_in

    generation = _made(alice)
    url = reverse("admin:generation_generation_operate", args=[generation.pk, "refund"])
    response = signed_in(alice.user).post(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not LedgerEntry.objects.filter(generation=generation, kind="refund").exists()
