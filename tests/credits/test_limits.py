"""Each limit of a user with what is used, what is left and when it resets; the 402 that says
when the next refill comes; ledger descriptions without raw ids."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from credits.models import LedgerEntry
from credits.selectors import ledger_description, limits_for_user
from credits.services import credits_grant
from tests.helpers import assert_envelope, generate, generate_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def enforced(settings):
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_QUOTAS_ENABLED = True
    return settings


def _by_name(user) -> dict:
    return {row["name"]: row for row in limits_for_user(user=user)}


def test_limits_show_what_is_used_left_and_when_each_resets(alice, enforced):
    with time_machine.travel("2026-03-10T15:20:00Z", tick=False):
        generate_done(alice, width=64, height=64)
        generate_done(alice, width=64, height=64)
        alice.get("/api/credits")
        limits = _by_name(alice.user)
        now = datetime(2026, 3, 10, 15, 20, tzinfo=UTC)

    hourly = limits["hourly_requests"]
    # Two submissions, the two reads of their results and one balance read.
    assert (hourly["limit"], hourly["used"], hourly["remaining"]) == (100, 5, 95)
    assert now < hourly["resets_at"] <= now + timedelta(hours=1)
    daily = limits["daily_generations"]
    assert (daily["limit"], daily["used"], daily["remaining"]) == (50, 2, 48)
    assert daily["resets_at"] == datetime(2026, 3, 11, tzinfo=UTC)
    rate = limits["generation"]
    assert (rate["limit"], rate["used"], rate["remaining"], rate["window"]) == (10, 2, 8, "minute")
    assert now < rate["resets_at"] <= now + timedelta(minutes=1)
    assert rate["resets_in"] == (rate["resets_at"] - now).total_seconds()
    assert all(row["enforced"] for row in limits.values())


def test_yesterdays_generations_do_not_count_today(alice, enforced):
    with time_machine.travel("2026-03-10T23:59:00Z", tick=False):
        generate_done(alice, width=64, height=64)
    with time_machine.travel("2026-03-11T00:01:00Z", tick=False):
        assert _by_name(alice.user)["daily_generations"]["used"] == 0


def test_limits_switched_off_on_the_server_say_so(alice, settings):
    settings.RATELIMIT_ENABLE = False
    settings.ATELIER_QUOTAS_ENABLED = False
    limits = _by_name(alice.user)
    assert not any(row["enforced"] for row in limits.values())
    assert limits["hourly_requests"]["limit"] == 100


def test_the_profile_carries_the_limits(alice, enforced):
    profile = alice.get("/api/user/profile").json()
    assert profile["success"] is True
    names = [row["name"] for row in profile["limits"]]
    assert names == ["hourly_requests", "daily_generations", "generation"]
    hourly = profile["limits"][0]
    assert hourly["remaining"] == hourly["limit"] - hourly["used"]
    assert hourly["resets_at"].endswith("Z")


def test_a_402_says_when_the_refill_comes_and_how_to_get_more(alice, set_balance):
    set_balance(alice.user, 0)
    with time_machine.travel("2026-03-15T12:00:00Z", tick=False):
        refused = generate(alice, width=64, height=64)
    body = assert_envelope(refused, 402, "insufficient_credits")
    assert body["details"].startswith("You need 1 credit but have only 0 left.")
    assert "on April 1, 2026 (UTC)" in body["details"]
    assert "ask an operator" in body["details"]
    assert body["next_refill"] == "2026-04-01T00:00:00Z"
    assert body["credits_remaining"] == 0
    assert body["plan"] == "Free"


def test_ledger_descriptions_keep_ids_apart_from_the_words(alice):
    job_id = uuid.uuid4()
    credits_grant(user=alice.user, amount=3, reason=f"LoRA training cancelled {job_id} (unused part)")
    entry = LedgerEntry.objects.filter(user=alice.user).first()
    assert ledger_description(entry=entry) == ("LoRA training cancelled (unused part)", str(job_id))


def test_a_generations_entry_names_its_generation_apart(alice):
    generation = generate_done(alice, width=64, height=64)
    entry = LedgerEntry.objects.filter(user=alice.user, kind=LedgerEntry.Kind.DEBIT).get()
    words, reference = ledger_description(entry=entry)
    assert reference == generation["id"]
    assert generation["id"] not in words
