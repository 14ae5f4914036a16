"""Acting as a team: a team API key, the X-Atelier-Team header, the browser's chosen space."""

from rest_framework.test import APIClient

from tests.conftest import Client
from tests.helpers import assert_envelope, generate, signed_in
from tests.teams.conftest import join
from tests.teams.test_team_wallet import grant, wallet


def team_key(admin, team) -> Client:
    secret = admin.post(f"/api/teams/{team}/keys", {"name": "farm"}, format="json").json()["key"]["secret"]
    client = Client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.secret = secret
    return client


def test_a_team_key_generates_as_the_team_in_its_makers_name(alice, staff, team):
    grant(staff, team, 10)
    key = team_key(alice, team)
    response = generate(key)
    assert response.status_code == 201, response.content
    assert response.json()["generation"]["team"] == team
    assert response.json()["credits_remaining"] == 9
    assert [row["id"] for row in key.get("/api/generate").json()["generations"]] == [
        response.json()["generation"]["id"]
    ]
    spent = {row["email"]: row["credits_this_month"] for row in wallet(alice, team)["members"]}
    assert spent == {"alice@example.com": 1}


def test_a_team_key_opens_nothing_personal(alice, staff, team):
    grant(staff, team, 10)
    own = generate(alice).json()["generation"]["id"]
    key = team_key(alice, team)
    assert_envelope(key.get(f"/api/generate/{own}"), 404)
    body = assert_envelope(key.get("/api/credits"), 403, "permission_denied")
    assert "Team API keys" in body["details"]
    assert_envelope(key.get("/api/auth/keys"), 403)
    assert_envelope(key.get(f"/api/teams/{team}"), 403)


def test_a_team_key_with_another_teams_header_is_404(alice, staff, team):
    other = alice.post("/api/teams", {"name": "Other"}, format="json").json()["team"]["id"]
    key = team_key(alice, team)
    key.credentials(HTTP_AUTHORIZATION=f"Bearer {key.secret}", HTTP_X_ATELIER_TEAM=other)
    assert_envelope(key.get("/api/generate"), 404)


def test_a_team_key_stops_when_its_maker_is_no_longer_an_admin(alice, bob, staff, team):
    join(alice, bob, role="admin")
    grant(staff, team, 10)
    key = team_key(bob, team)
    assert generate(key).status_code == 201
    alice.patch(f"/api/teams/{team}/members/{bob.user.uuid}", {"role": "member"}, format="json")
    assert_envelope(generate(key), 401)
    alice.patch(f"/api/teams/{team}/members/{bob.user.uuid}", {"role": "admin"}, format="json")
    assert generate(key).status_code == 201
    alice.delete(f"/api/teams/{team}/members/{bob.user.uuid}")
    assert_envelope(generate(key), 401)
    assert_envelope(APIClient().get("/api/generate", HTTP_AUTHORIZATION="Bearer atlteam_0000_nope"), 401)


def test_the_browser_works_in_the_space_chosen_in_the_header_bar(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 10)
    browser = signed_in(bob.user)
    page = browser.get("/account").content.decode()
    assert 'id="space-select"' in page and "Studio North" in page
    response = browser.post("/teams/space", {"team": team, "next": "/account"})
    assert response.status_code == 302 and response["Location"] == "/account"
    page = browser.get("/account").content.decode()
    assert f'<option value="{team}" selected>' in page
    assert 'data-credits="10"' in page
    made = browser.post(
        "/api/generate", {"model": "local/procedural", "prompt": "a team lighthouse"}, content_type="application/json"
    )
    assert made.status_code == 201, made.content
    assert made.json()["generation"]["team"] == team
    browser.post("/teams/space", {"team": ""})
    mine = browser.post(
        "/api/generate", {"model": "local/procedural", "prompt": "mine"}, content_type="application/json"
    )
    assert mine.json()["generation"]["team"] is None
    # A team one does not belong to cannot be chosen.
    other = alice.post("/api/teams", {"name": "Private"}, format="json").json()["team"]["id"]
    assert browser.post("/teams/space", {"team": other}).status_code == 404
    assert browser.post("/teams/space", {"team": team, "next": "https://evil.example/"})["Location"] == "/"
