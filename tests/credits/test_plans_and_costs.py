import pytest

from catalog.models import AIModel
from credits.models import LedgerEntry, Plan
from credits.selectors import plan_for_user
from credits.services import credits_refund_generation
from generation.models import Generation
from tests.credits.conftest import balance_of, ledger_sum
from tests.helpers import LOCAL_MODEL, assert_envelope, generate

pytestmark = pytest.mark.django_db


def test_plans_are_seeded_and_new_users_are_on_free(alice):
    assert list(Plan.objects.values_list("name", flat=True)) == ["Free", "Pro", "Studio"]
    assert plan_for_user(user=alice.user).name == "Free"
    credits = alice.get("/api/credits").json()["credits"]
    assert credits["plan"] == "Free"
    assert credits["total"] == Plan.objects.get(slug="free").monthly_credits
    assert credits["used"] == 0
    assert credits["next_refill"].endswith("-01T00:00:00Z")


def test_credits_used_this_period_counts_debits_less_refunds(alice):
    generation_id = generate(alice, width=64, height=64).json()["generation"]["id"]
    cost = Generation.objects.get(pk=generation_id).cost
    assert alice.get("/api/credits").json()["credits"]["used"] == cost
    # A refunded generation is not spending.
    credits_refund_generation(generation=Generation.objects.get(pk=generation_id), reason="test")
    assert alice.get("/api/credits").json()["credits"]["used"] == 0


def test_cost_is_model_price_times_images_plus_kind_extra(alice, settings):
    model = AIModel.objects.get(pk=LOCAL_MODEL)
    settings.ATELIER_CREDIT_KIND_EXTRAS = {model.kind: 2}
    before = balance_of(alice.user)
    response = generate(alice, width=64, height=64, num_images=3)
    assert response.status_code == 201, response.content
    assert response.json()["credits_used"] == (model.credit_cost + 2) * 3
    assert balance_of(alice.user) == before - (model.credit_cost + 2) * 3
    assert ledger_sum(alice.user) == balance_of(alice.user)


def test_dry_run_answers_the_cost_and_charges_nothing(alice):
    model = AIModel.objects.get(pk=LOCAL_MODEL)
    before = balance_of(alice.user)
    response = generate(alice, width=64, height=64, num_images=2, dry_run=True)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "success": True,
        "dry_run": True,
        "model": LOCAL_MODEL,
        "num_images": 2,
        "cost": model.credit_cost * 2,
        "credits_remaining": before,
        "sufficient": True,
    }
    assert balance_of(alice.user) == before
    assert not Generation.objects.exists()
    assert LedgerEntry.objects.filter(kind="debit").count() == 0


def test_dry_run_says_when_the_balance_does_not_cover_it(alice, set_balance):
    set_balance(alice.user, 1)
    body = generate(alice, width=64, height=64, num_images=4, dry_run=True).json()
    assert body["sufficient"] is False and body["credits_remaining"] == 1
    assert_envelope(generate(alice, width=64, height=64, num_images=4), 402, "insufficient_credits")


def test_dry_run_validates_like_a_real_request(alice):
    assert_envelope(generate(alice, model="no/such-model", dry_run=True), 400, "validation_error")


def test_user_admin_list_shows_the_plan(staff, alice):
    staff.force_login(staff.user)
    response = staff.get("/admin/accounts/user/")
    assert response.status_code == 200
    assert '<td class="field-plan">Free</td>' in response.content.decode()
