from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine

from generation.models import Generation
from generation.services import generation_fail
from tests.credits.conftest import balance_of
from tests.helpers import LOCAL_MODEL, assert_envelope, generate

pytestmark = pytest.mark.django_db


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


@pytest.fixture
def history(alice, bob):
    """Alice's June: generations on two days in two styles, one failed; one in May; bob's one."""
    with at(2026, 6, 1, 9):
        generate(alice, width=64, height=64, num_images=2, art_style="realistic")
        generate(alice, width=64, height=64, art_style="modern")
    with at(2026, 6, 3, 23, 30):
        generate(alice, width=64, height=64, num_images=3)
        failed = generate(alice, width=64, height=64, num_images=4).json()["generation"]["id"]
        Generation.objects.filter(pk=failed).update(status="processing")
        generation_fail(generation_id=failed, message="provider exploded")
    with at(2026, 5, 31, 23, 59):
        generate(alice, width=64, height=64)
    with at(2026, 6, 2):
        generate(bob, width=64, height=64, num_images=4)


def _direct(user, year, month):
    rows = [
        g
        for g in Generation.objects.filter(user=user)
        if (g.created_at.year, g.created_at.month) == (year, month) and g.status not in ("failed", "cancelled")
    ]
    by_model, by_style, by_day = Counter(), Counter(), Counter()
    for g in rows:
        by_model[g.model_id] += g.num_images
        by_style[g.params.get("art_style") or "none"] += g.num_images
        by_day[g.created_at.date().isoformat()] += g.num_images
    return rows, by_model, by_style, by_day


def test_month_usage_equals_a_direct_count_of_the_rows(alice, history):
    with at(2026, 6, 18, 10):
        response = alice.get("/api/user/usage?period=month&year=2026&month=6")
    assert response.status_code == 200, response.content
    body = response.json()
    rows, by_model, by_style, by_day = _direct(alice.user, 2026, 6)
    assert body["period"] == "2026-06"
    assert body["total_images"] == sum(g.num_images for g in rows) == 6
    assert body["credits_used"] == sum(g.cost for g in rows)
    assert body["credits_allocated"] == 100
    assert body["usage_by_model"] == dict(by_model) == {LOCAL_MODEL: 6}
    assert body["usage_by_style"] == dict(by_style)
    assert set(body["usage_by_style"]) == {"realistic", "modern", "none"}
    assert len(body["daily_usage"]) == 30
    assert {d["date"]: d["images"] for d in body["daily_usage"] if d["images"]} == dict(by_day)
    assert sum(d["credits"] for d in body["daily_usage"]) == body["credits_used"]


def test_day_and_week_periods(alice, history):
    with at(2026, 6, 3, 23, 45):
        day = alice.get("/api/user/usage?period=day").json()
        week = alice.get("/api/user/usage?period=week").json()
    assert (day["period"], day["total_images"]) == ("2026-06-03", 3)
    # 2026-06-01 is a Monday: the ISO week 23 holds all of June's rows so far.
    assert (week["period"], week["total_images"], len(week["daily_usage"])) == ("2026-W23", 6, 7)


def test_another_month_and_another_user(alice, bob, history):
    may = alice.get("/api/user/usage?period=month&year=2026&month=5").json()
    assert may["total_images"] == 1
    bobs = bob.get("/api/user/usage?period=month&year=2026&month=6").json()
    assert bobs["total_images"] == 4 and bobs["usage_by_style"] == {"none": 4}


def test_usage_query_is_validated(alice):
    assert_envelope(alice.get("/api/user/usage?period=year"), 400, "validation_error")
    assert_envelope(alice.get("/api/user/usage?period=month&month=13"), 400, "validation_error")


def test_profile_has_the_subscription_block(alice, history):
    with at(2026, 6, 18, 10):
        body = alice.get("/api/user/profile").json()
    rows, *_ = _direct(alice.user, 2026, 6)
    assert body["success"] is True
    assert (body["email"], body["role"], body["id"]) == ("alice@example.com", "user", str(alice.user.uuid))
    assert body["subscription"] == {
        "plan": "Free",
        "credits_remaining": balance_of(alice.user),
        "credits_allocated": 100,
        "credits_used_this_month": sum(g.cost for g in rows),
        "next_reset": "2026-07-01T00:00:00Z",
        "is_active": True,
    }
    assert body["preferences"] == {"default_style": "", "preferred_format": "png", "email_notifications": True}


def test_patch_preferences_merges_and_validates(alice, bob):
    response = alice.patch("/api/user/profile", {"preferences": {"default_style": "modern"}}, format="json")
    assert response.status_code == 200, response.content
    response = alice.patch(
        "/api/user/profile", {"preferred_format": "webp", "email_notifications": False}, format="json"
    )
    assert response.json()["preferences"] == {
        "default_style": "modern",
        "preferred_format": "webp",
        "email_notifications": False,
    }
    assert alice.get("/api/user/profile").json()["preferences"]["preferred_format"] == "webp"
    assert bob.get("/api/user/profile").json()["preferences"] == {
        "default_style": "",
        "preferred_format": "png",
        "email_notifications": True,
    }
    assert_envelope(alice.patch("/api/user/profile", {"preferred_format": "bmp"}, format="json"), 400)
    assert_envelope(alice.patch("/api/user/profile", {"theme": "dark"}, format="json"), 400)
    assert_envelope(alice.patch("/api/user/profile", {"email_notifications": "yes"}, format="json"), 400)
    unknown_style = alice.patch("/api/user/profile", {"default_style": "no-such-style"}, format="json")
    assert_envelope(unknown_style, 400)
    assert "default_style" in unknown_style.json()["details"]
    assert alice.get("/api/user/profile").json()["preferences"]["default_style"] == "modern"


def test_profile_and_usage_need_a_user(anon):
    assert_envelope(anon.get("/api/user/profile"), 401)
    assert_envelope(anon.get("/api/user/usage"), 401)
