"""Admin pages of generations and users: images, readable logs, actions, links."""

import pytest
from django.urls import reverse

from credits.models import CreditAccount
from generation.models import Generation
from generation.tasks import run_generation
from tests.helpers import generate, signed_in

pytestmark = pytest.mark.django_db


def _made(client, **payload) -> Generation:
    response = generate(client, **payload)
    assert response.status_code == 201, response.content
    run_generation(response.json()["generation"]["id"])
    return Generation.objects.get(pk=response.json()["generation"]["id"])


def _balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


def _action(browser, action: str, *ids) -> None:
    response = browser.post(
        reverse("admin:generation_generation_changelist"),
        {"action": action, "_selected_action": [str(i) for i in ids]},
    )
    assert response.status_code == 302, response.content


def test_a_generation_page_shows_its_images_and_log(staff, alice):
    generation = _made(alice, num_images=2)
    browser = signed_in(staff.user)
    page = browser.get(reverse("admin:generation_generation_change", args=[generation.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assets = list(generation.assets.all())
    assert len(assets) == 2
    for asset in assets:
        thumb = reverse("admin:generation_generation_asset", args=[generation.pk, asset.pk, "thumbnail"])
        assert f'src="{thumb}"' in html
        image = browser.get(reverse("admin:generation_generation_asset", args=[generation.pk, asset.pk, "file"]))
        assert image.status_code == 200
        assert b"".join(image.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Completed with 2 output(s)" in html
    assert "<pre" in html and '"logs"' not in html


def test_images_are_not_served_to_users_who_are_not_staff(alice):
    generation = _made(alice)
    asset = generation.assets.first()
    url = reverse("admin:generation_generation_asset", args=[generation.pk, asset.pk, "file"])
    assert signed_in(alice.user).get(url).status_code == 302  # to the admin login


def test_cancel_action_cancels_and_refunds(staff, alice):
    before = _balance(alice.user)
    generation = Generation.objects.create(
        user=alice.user, model_id="local/procedural", provider="local", status="in_queue", width=64, height=64
    )
    _action(signed_in(staff.user), "cancel_generations", generation.pk)
    generation.refresh_from_db()
    assert generation.status == "cancelled"
    assert _balance(alice.user) == before  # it was never charged: nothing to give back


def test_refund_action_gives_back_a_completed_generations_credits_once(staff, alice):
    before = _balance(alice.user)
    generation = _made(alice)
    charged = before - _balance(alice.user)
    assert charged > 0
    browser = signed_in(staff.user)
    _action(browser, "refund_generations", generation.pk)
    _action(browser, "refund_generations", generation.pk)
    assert _balance(alice.user) == before


def test_retry_action_starts_a_new_generation_like_the_failed_one(staff, alice):
    from generation.services import generation_fail

    failed = _made(alice, seed=7, num_images=1)
    Generation.objects.filter(pk=failed.pk).update(status="processing")
    generation_fail(generation_id=failed.pk, message="provider down")
    _action(signed_in(staff.user), "retry_generations", failed.pk)
    again = Generation.objects.exclude(pk=failed.pk).get()
    assert (again.user, again.model_id, again.prompt, again.seed) == (alice.user, "local/procedural", failed.prompt, 7)


def test_the_user_page_links_to_credits_ledger_and_generations(staff, alice):
    html = signed_in(staff.user).get(reverse("admin:accounts_user_change", args=[alice.user.pk])).content.decode()
    pk = alice.user.pk
    for name in ("credits_creditaccount", "credits_ledgerentry", "generation_generation"):
        assert f"{reverse(f'admin:{name}_changelist')}?user__id__exact={pk}" in html
    # The filtered lists answer (the filter is accepted, not refused with ?e=1).
    browser = signed_in(staff.user)
    listed = browser.get(f"{reverse('admin:generation_generation_changelist')}?user__id__exact={pk}")
    assert listed.status_code == 200
