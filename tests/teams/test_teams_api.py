import time_machine
from django.core import mail

from tests.helpers import assert_envelope
from tests.teams.conftest import join


def test_creator_owns_the_new_team_and_lists_it(alice, team):
    body = alice.get(f"/api/teams/{team}").json()
    assert body["success"] is True
    assert body["team"]["name"] == "Studio North"
    assert body["team"]["role"] == "owner"
    assert [row["id"] for row in alice.get("/api/teams").json()["teams"]] == [team]


def test_a_team_needs_a_name(alice):
    assert_envelope(alice.post("/api/teams", {"name": "  "}, format="json"), 400, "validation_error")


def test_outsider_gets_404_on_every_team_route(alice, bob, team):
    assert bob.get("/api/teams").json()["teams"] == []
    member = alice.user.uuid
    for method, path, body in [
        ("get", f"/api/teams/{team}", None),
        ("patch", f"/api/teams/{team}", {"name": "Mine now"}),
        ("delete", f"/api/teams/{team}", None),
        ("get", f"/api/teams/{team}/invites", None),
        ("post", f"/api/teams/{team}/invites", {"email": "bob@example.com"}),
        ("get", f"/api/teams/{team}/members", None),
        ("patch", f"/api/teams/{team}/members/{member}", {"role": "member"}),
        ("delete", f"/api/teams/{team}/members/{member}", None),
        ("get", f"/api/teams/{team}/keys", None),
        ("post", f"/api/teams/{team}/keys", {"name": "mine"}),
    ]:
        response = getattr(bob, method)(path, body, format="json")
        assert_envelope(response, 404, "not_found")
    assert alice.get(f"/api/teams/{team}").json()["team"]["name"] == "Studio North"


def test_invite_mails_a_link_that_joins_the_team(alice, bob, team):
    response = alice.post(f"/api/teams/{team}/invites", {"email": "Bob@Example.com", "role": "admin"}, format="json")
    assert response.status_code == 201, response.content
    invite = response.json()["invite"]
    assert invite["email"] == "bob@example.com" and invite["role"] == "admin" and invite["expires_at"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bob@example.com"]
    assert f"/teams/join/{invite['token']}" in mail.outbox[0].body
    assert "Studio North" in mail.outbox[0].subject

    accepted = bob.post(f"/api/teams/invites/{invite['token']}/accept")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["team"] == {**accepted.json()["team"], "id": team, "role": "admin"}
    assert [row["role"] for row in bob.get("/api/teams").json()["teams"]] == ["admin"]
    members = alice.get(f"/api/teams/{team}/members").json()["members"]
    assert [(row["email"], row["role"]) for row in members] == [
        ("alice@example.com", "owner"),
        ("bob@example.com", "admin"),
    ]


def test_an_invite_is_for_its_email_and_works_once(alice, bob, carol, team):
    token = alice.post(f"/api/teams/{team}/invites", {"email": "bob@example.com"}, format="json").json()["invite"][
        "token"
    ]
    body = assert_envelope(carol.post(f"/api/teams/invites/{token}/accept"), 400, "validation_error")
    assert "another email address" in body["error"]
    assert bob.post(f"/api/teams/invites/{token}/accept").status_code == 200
    assert_envelope(carol.post(f"/api/teams/invites/{token}/accept"), 400)
    assert_envelope(bob.post("/api/teams/invites/not-a-token/accept"), 404, "not_found")
    assert carol.get("/api/teams").json()["teams"] == []


def test_an_expired_invite_is_refused(alice, bob, team):
    token = alice.post(f"/api/teams/{team}/invites", {"email": "bob@example.com"}, format="json").json()["invite"][
        "token"
    ]
    with time_machine.travel("2099-01-01"):
        body = assert_envelope(bob.post(f"/api/teams/invites/{token}/accept"), 404, "not_found")
    assert "expired" in body["details"]
    assert bob.get("/api/teams").json()["teams"] == []


def test_members_cannot_manage_the_team(alice, bob, carol, team):
    join(alice, bob)
    join(alice, carol)
    assert bob.get(f"/api/teams/{team}/members").status_code == 200
    assert_envelope(bob.post(f"/api/teams/{team}/invites", {"email": "x@example.com"}, format="json"), 403)
    assert_envelope(bob.patch(f"/api/teams/{team}", {"name": "Bob's"}, format="json"), 403, "permission_denied")
    assert_envelope(bob.patch(f"/api/teams/{team}/members/{carol.user.uuid}", {"role": "admin"}, format="json"), 403)
    assert_envelope(bob.delete(f"/api/teams/{team}/members/{carol.user.uuid}"), 403)
    assert_envelope(bob.post(f"/api/teams/{team}/keys", {"name": "k"}, format="json"), 403)
    assert bob.get(f"/api/teams/{team}/invites").json()["invites"] == []
    assert len(alice.get(f"/api/teams/{team}/members").json()["members"]) == 3


def test_admins_set_roles_and_caps_but_only_owners_touch_owners(alice, bob, carol, team):
    join(alice, bob, role="admin")
    join(alice, carol)
    response = bob.patch(
        f"/api/teams/{team}/members/{carol.user.uuid}",
        {"role": "admin", "monthly_credit_cap": 50, "daily_generation_cap": 3},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["member"] | {"joined_at": None} == {
        "user_id": str(carol.user.uuid),
        "email": "carol@example.com",
        "full_name": "Carol",
        "role": "admin",
        "monthly_credit_cap": 50,
        "daily_generation_cap": 3,
        "joined_at": None,
    }
    assert_envelope(bob.patch(f"/api/teams/{team}/members/{carol.user.uuid}", {"role": "owner"}, format="json"), 403)
    assert_envelope(bob.patch(f"/api/teams/{team}/members/{alice.user.uuid}", {"role": "member"}, format="json"), 403)
    assert_envelope(bob.delete(f"/api/teams/{team}/members/{alice.user.uuid}"), 403)
    cleared = bob.patch(f"/api/teams/{team}/members/{carol.user.uuid}", {"monthly_credit_cap": None}, format="json")
    assert cleared.json()["member"]["monthly_credit_cap"] is None
    assert cleared.json()["member"]["daily_generation_cap"] == 3
    assert_envelope(
        bob.patch(f"/api/teams/{team}/members/{carol.user.uuid}", {"daily_generation_cap": -1}, format="json"), 400
    )


def test_the_last_owner_can_neither_leave_nor_be_demoted(alice, bob, team):
    join(alice, bob)
    body = assert_envelope(alice.delete(f"/api/teams/{team}/members/{alice.user.uuid}"), 400)
    assert body["error"] == "The last owner cannot leave"
    body = assert_envelope(
        alice.patch(f"/api/teams/{team}/members/{alice.user.uuid}", {"role": "admin"}, format="json"), 400
    )
    assert body["error"] == "The last owner cannot be demoted"
    assert (
        alice.patch(f"/api/teams/{team}/members/{bob.user.uuid}", {"role": "owner"}, format="json").status_code == 200
    )
    response = alice.delete(f"/api/teams/{team}/members/{alice.user.uuid}")
    assert response.json() == {"success": True, "message": "You left the team"}
    assert_envelope(alice.get(f"/api/teams/{team}"), 404)
    assert [row["email"] for row in bob.get(f"/api/teams/{team}/members").json()["members"]] == ["bob@example.com"]


def test_a_removed_member_loses_the_team(alice, bob, team):
    join(alice, bob)
    assert alice.delete(f"/api/teams/{team}/members/{bob.user.uuid}").json()["message"] == "Member removed"
    assert_envelope(bob.get(f"/api/teams/{team}"), 404)
    assert_envelope(bob.get(f"/api/teams/{team}/members"), 404)
    assert_envelope(alice.delete(f"/api/teams/{team}/members/{bob.user.uuid}"), 404)


def test_a_member_may_leave(alice, bob, team):
    join(alice, bob)
    assert bob.delete(f"/api/teams/{team}/members/{bob.user.uuid}").json()["message"] == "You left the team"
    assert bob.get("/api/teams").json()["teams"] == []


def test_only_owners_delete_the_team_and_then_nobody_sees_it(alice, bob, team):
    join(alice, bob, role="admin")
    assert_envelope(bob.delete(f"/api/teams/{team}"), 403)
    assert alice.delete(f"/api/teams/{team}").status_code == 200
    assert_envelope(alice.get(f"/api/teams/{team}"), 404)
    assert_envelope(bob.get(f"/api/teams/{team}/members"), 404)
    assert alice.get("/api/teams").json()["teams"] == []


def test_revoked_invite_cannot_be_accepted(alice, bob, team):
    invite = alice.post(f"/api/teams/{team}/invites", {"email": "bob@example.com"}, format="json").json()["invite"]
    assert [row["id"] for row in alice.get(f"/api/teams/{team}/invites").json()["invites"]] == [invite["id"]]
    assert "token" not in alice.get(f"/api/teams/{team}/invites").json()["invites"][0]
    assert alice.delete(f"/api/teams/{team}/invites/{invite['id']}").status_code == 200
    assert_envelope(bob.post(f"/api/teams/invites/{invite['token']}/accept"), 404)


def test_policy_names_models_by_id_or_alias(alice, team):
    response = alice.patch(
        f"/api/teams/{team}", {"allowed_models": ["local/procedural"], "members_may_train": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["team"]["allowed_models"] == ["local/procedural"]
    assert response.json()["team"]["members_may_train"] is False
    body = assert_envelope(alice.patch(f"/api/teams/{team}", {"allowed_models": ["no/such-model"]}, format="json"), 400)
    assert "no/such-model" in str(body["details"])
    alias = alice.patch(f"/api/teams/{team}", {"allowed_models": ["flux"]}, format="json").json()["team"]
    assert alias["allowed_models"] and alias["allowed_models"] != ["flux"]


def test_admins_make_and_revoke_team_keys(alice, team):
    response = alice.post(f"/api/teams/{team}/keys", {"name": "render farm"}, format="json")
    assert response.status_code == 201, response.content
    key = response.json()["key"]
    assert key["secret"].startswith("atlteam_") and key["created_by"] == "alice@example.com"
    listed = alice.get(f"/api/teams/{team}/keys").json()["keys"]
    assert [row["id"] for row in listed] == [key["id"]] and "secret" not in listed[0]
    # A team key is not a personal key: the account's own list does not show it.
    assert all(row["id"] != key["id"] for row in alice.get("/api/auth/keys").json()["keys"])
    assert alice.delete(f"/api/teams/{team}/keys/{key['id']}").status_code == 200
    assert alice.get(f"/api/teams/{team}/keys").json()["keys"] == []
