"""The team's wallet: work done as the team is paid from it, within each member's caps."""

import pytest

from core.errors import ProviderError
from credits.models import LedgerEntry
from generation.models import Generation
from generation.providers.local import LocalProvider
from tests.helpers import assert_envelope, credits_remaining, generate
from tests.teams.conftest import join

LOCAL_COST = 1


def as_team(client, team):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client.secret}", HTTP_X_ATELIER_TEAM=str(team))
    return client


def personal(client):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client.secret}")
    return client


def grant(staff, team, amount, action="add"):
    response = staff.post(
        f"/admin/api/teams/{team}/credits", {"action": action, "amount": amount, "reason": "Team budget"}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def wallet(client, team) -> dict:
    response = client.get(f"/api/teams/{team}/credits")
    assert response.status_code == 200, response.content
    return response.json()


def test_staff_fill_the_new_team_wallet(alice, bob, staff, team):
    assert wallet(alice, team)["credits"]["remaining"] == 0
    body = grant(staff, team, 40)
    assert (body["old_credits"], body["new_credits"]) == (0, 40)
    assert wallet(alice, team)["credits"]["remaining"] == 40
    assert grant(staff, team, 15, action="deduct")["new_credits"] == 25
    assert_envelope(
        alice.post(f"/admin/api/teams/{team}/credits", {"action": "add", "amount": 5, "reason": "x"}, format="json"),
        403,
    )
    assert_envelope(
        staff.post(
            f"/admin/api/teams/{team}/credits", {"action": "deduct", "amount": 99, "reason": "x"}, format="json"
        ),
        400,
    )
    assert_envelope(bob.get(f"/api/teams/{team}/credits"), 404)
    entry = LedgerEntry.objects.filter(team_id=team).order_by("pk").last()
    assert entry.actor == staff.user and entry.user is None and entry.kind == "admin_adjustment"


def test_a_member_generates_on_the_team_wallet(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 10)
    personal_before = credits_remaining(bob)
    response = generate(as_team(bob, team))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["generation"]["team"] == team
    assert body["credits_remaining"] == 10 - LOCAL_COST
    assert wallet(alice, team)["credits"]["remaining"] == 10 - LOCAL_COST
    assert credits_remaining(personal(bob)) == personal_before
    debit = LedgerEntry.objects.get(generation_id=body["generation"]["id"], kind="debit")
    assert (debit.team_id.hex, debit.member, debit.user) == (team.replace("-", ""), bob.user, None)
    members = {row["email"]: row for row in wallet(alice, team)["members"]}
    assert members["bob@example.com"]["credits_this_month"] == LOCAL_COST
    assert members["bob@example.com"]["generations_today"] == 1
    assert members["alice@example.com"]["credits_this_month"] == 0
    # Bob's own ledger shows none of it.
    assert all(
        row["generation_id"] != body["generation"]["id"] for row in bob.get("/api/credits/ledger").json()["entries"]
    )


def test_the_team_library_lists_team_work_and_the_personal_one_does_not(alice, bob, carol, staff, team):
    join(alice, bob)
    grant(staff, team, 10)
    made = generate(as_team(bob, team)).json()["generation"]["id"]
    mine = generate(personal(bob)).json()["generation"]["id"]
    assert [row["id"] for row in as_team(alice, team).get("/api/generate").json()["generations"]] == [made]
    assert [row["id"] for row in personal(bob).get("/api/generate").json()["generations"]] == [mine]
    # Any member opens the team's work by id; an outsider gets 404, and alice cannot see bob's own.
    assert personal(alice).get(f"/api/generate/{made}").status_code == 200
    assert_envelope(personal(alice).get(f"/api/generate/{mine}"), 404)
    assert_envelope(carol.get(f"/api/generate/{made}"), 404)


def test_outsiders_cannot_act_as_the_team(alice, bob, staff, team):
    grant(staff, team, 10)
    body = assert_envelope(generate(as_team(bob, team)), 404, "not_found")
    assert body["error"] == "Team not found"
    assert_envelope(as_team(bob, team).get("/api/generate"), 404)
    assert wallet(alice, team)["credits"]["remaining"] == 10
    assert_envelope(generate(as_team(bob, "not-a-uuid")), 404)


def test_an_empty_wallet_is_a_402_that_says_so_and_saves_nothing(alice, bob, team):
    join(alice, bob)
    body = assert_envelope(generate(as_team(bob, team)), 402, "insufficient_credits")
    assert body["exhausted"] == "team_wallet" and body["wallet"] == "team" and body["team"] == team
    assert body["credits_remaining"] == 0
    assert not Generation.objects.filter(team_id=team).exists()


def test_the_monthly_cap_stops_a_member_until_an_admin_raises_it(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 10)
    alice.patch(f"/api/teams/{team}/members/{bob.user.uuid}", {"monthly_credit_cap": 2}, format="json")
    assert generate(as_team(bob, team)).status_code == 201
    assert generate(as_team(bob, team)).status_code == 201
    body = assert_envelope(generate(as_team(bob, team)), 402, "insufficient_credits")
    assert body["exhausted"] == "member_monthly_credit_cap"
    assert body["limit"]["name"] == "team_member_monthly_credits" and body["limit"]["remaining"] == 0
    assert body["credits_remaining"] == 8
    # Alice, uncapped, still spends; the wallet shows who spent what.
    assert generate(as_team(alice, team)).status_code == 201
    alice.patch(f"/api/teams/{team}/members/{bob.user.uuid}", {"monthly_credit_cap": 3}, format="json")
    assert generate(as_team(bob, team)).status_code == 201
    members = {row["email"]: row["credits_this_month"] for row in wallet(alice, team)["members"]}
    assert members == {"alice@example.com": 1, "bob@example.com": 3}
    assert wallet(alice, team)["credits"]["remaining"] == 6


def test_the_daily_cap_is_a_429_that_says_so(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 10)
    alice.patch(f"/api/teams/{team}/members/{bob.user.uuid}", {"daily_generation_cap": 1}, format="json")
    assert generate(as_team(bob, team)).status_code == 201
    response = generate(as_team(bob, team))
    body = assert_envelope(response, 429, "quota_exceeded")
    assert body["exhausted"] == "member_daily_generation_cap"
    assert body["limit"]["name"] == "team_member_daily_generations"
    assert int(response["Retry-After"]) > 0
    assert wallet(alice, team)["credits"]["remaining"] == 9
    # Personal work is not the team's cap's business.
    assert generate(personal(bob)).status_code == 201


def test_the_allow_list_refuses_other_models_and_charges_nothing(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 10)
    alice.patch(f"/api/teams/{team}", {"allowed_models": ["fal-ai/flux/dev"]}, format="json")
    body = assert_envelope(generate(as_team(bob, team)), 400, "validation_error")
    assert body["error"] == "This model is not allowed in this team"
    assert body["allowed_models"] == ["fal-ai/flux/dev"]
    assert wallet(alice, team)["credits"]["remaining"] == 10
    assert generate(personal(bob)).status_code == 201


def test_a_failed_team_generation_refunds_the_team_wallet(alice, bob, staff, team, monkeypatch):
    join(alice, bob)
    grant(staff, team, 10)

    def refuse(self, job, *, reporter):
        raise ProviderError("Content refused")

    monkeypatch.setattr(LocalProvider, "submit", refuse)
    generation_id = generate(as_team(bob, team)).json()["generation"]["id"]
    assert as_team(bob, team).get(f"/api/generate/{generation_id}").json()["generation"]["status"] == "failed"
    assert wallet(alice, team)["credits"]["remaining"] == 10
    refund = LedgerEntry.objects.get(generation_id=generation_id, kind="refund")
    assert refund.team_id is not None and refund.member == bob.user and refund.user is None
    assert {row["email"]: row["credits_this_month"] for row in wallet(alice, team)["members"]}["bob@example.com"] == 0


@pytest.fixture
def held_tasks(settings):
    """Task messages wait in the broker: a generation stays queued."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def test_only_the_creator_and_admins_cancel_team_work(alice, bob, carol, staff, team, held_tasks):
    join(alice, bob)
    join(alice, carol)
    grant(staff, team, 10)
    made = generate(as_team(bob, team)).json()["generation"]["id"]
    assert_envelope(carol.delete(f"/api/generate/{made}"), 403, "permission_denied")
    assert alice.delete(f"/api/generate/{made}").status_code == 200
    assert wallet(alice, team)["credits"]["remaining"] == 10


def test_cancel_all_queued_cancels_only_the_spaces_jobs(alice, bob, staff, team, held_tasks):
    join(alice, bob)
    grant(staff, team, 10)
    made = generate(as_team(bob, team)).json()["generation"]["id"]
    own = generate(personal(bob)).json()["generation"]["id"]
    body = as_team(bob, team).post("/api/generate/cancel", {"status": "in_queue"}, format="json").json()
    assert body["generation_ids"] == [made] and body["credits_remaining"] == 10
    assert personal(bob).get(f"/api/generate/{own}").json()["generation"]["status"] == "in_queue"


def test_a_seed_route_cancels_only_the_callers_own_jobs(alice, bob, carol, staff, team, held_tasks):
    join(alice, bob)
    join(alice, carol)
    grant(staff, team, 10)
    made = generate(as_team(bob, team)).json()["generation"]["id"]
    assert_envelope(carol.post("/api/image/cancel", {"requestId": made}, format="json"), 404)
    assert as_team(bob, team).get(f"/api/generate/{made}").json()["generation"]["status"] == "in_queue"
    assert personal(bob).post("/api/image/cancel", {"requestId": made}, format="json").status_code == 200
