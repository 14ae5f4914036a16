"""Routes that work on many of a space's objects, or on one found another way than its detail
route, follow the acting space as the detail routes do (a member, an admin, an ex-member, an
outsider)."""

import pytest

from credits.models import LedgerEntry
from tests.conftest import _user_with_key
from tests.helpers import assert_envelope, credits_remaining, generate, signed_in
from tests.teams.conftest import join
from tests.teams.test_team_wallet import as_team, grant, held_tasks, personal, wallet  # noqa: F401


def _queued(client) -> str:
    response = generate(client)
    assert response.status_code == 201, response.content
    return response.json()["generation"]["id"]


def _status(client, generation_id) -> str:
    return client.get(f"/api/generate/{generation_id}").json()["generation"]["status"]


def _cancel(client, **body):
    return client.post("/api/generate/cancel", body or {"status": "in_queue"}, format="json")


@pytest.fixture
def queued(request, alice, bob, carol, staff, team):
    """Bob and Carol (members) and Dave (who then left) queued team jobs; Alice (owner) and Bob
    queued personal ones."""
    request.getfixturevalue("held_tasks")
    dave = _user_with_key("dave@example.com")
    join(alice, bob)
    join(alice, carol)
    join(alice, dave)
    grant(staff, team, 10)
    jobs = {
        "bob": _queued(as_team(bob, team)),
        "carol": _queued(as_team(carol, team)),
        "dave": _queued(as_team(dave, team)),
        "bob_own": _queued(personal(bob)),
        "alice_own": _queued(personal(alice)),
    }
    assert alice.delete(f"/api/teams/{team}/members/{dave.user.uuid}").status_code in (200, 204)
    jobs["dave_client"] = dave
    return jobs


def test_a_member_cancels_only_their_own_team_jobs(alice, bob, carol, team, queued):
    body = _cancel(as_team(carol, team)).json()
    assert body["generation_ids"] == [queued["carol"]]
    assert body["credits_remaining"] == 8 == wallet(alice, team)["credits"]["remaining"]
    assert _status(as_team(bob, team), queued["bob"]) == "in_queue"
    assert _status(personal(bob), queued["bob_own"]) == "in_queue"


def test_an_admin_cancels_every_job_of_the_team_refunded_once_to_its_wallet(alice, bob, team, queued):
    personal_before = credits_remaining(personal(alice))
    body = _cancel(as_team(alice, team), all=True).json()
    assert set(body["generation_ids"]) == {queued["bob"], queued["carol"], queued["dave"]}
    assert body["credits_refunded"] == 3
    assert body["credits_remaining"] == 10 == wallet(alice, team)["credits"]["remaining"]
    for made in (queued["bob"], queued["carol"], queued["dave"]):
        assert LedgerEntry.objects.filter(generation_id=made, kind="refund").count() == 1
    # The personal space is another space: Alice's and Bob's own jobs go on, her balance unmoved.
    assert _status(personal(alice), queued["alice_own"]) == "in_queue"
    assert _status(personal(bob), queued["bob_own"]) == "in_queue"
    assert credits_remaining(personal(alice)) == personal_before
    assert _cancel(as_team(alice, team), all=True).json()["generation_ids"] == []
    assert wallet(alice, team)["credits"]["remaining"] == 10


def test_the_personal_space_cancels_only_the_callers_personal_jobs(alice, bob, team, queued):
    before = credits_remaining(personal(bob))
    body = _cancel(personal(bob), all=True).json()
    assert body["generation_ids"] == [queued["bob_own"]]
    assert body["credits_remaining"] == before + 1
    assert _status(as_team(bob, team), queued["bob"]) == "in_queue"
    assert wallet(alice, team)["credits"]["remaining"] == 7


def test_an_ex_member_and_an_outsider_cancel_nothing_of_the_team(alice, team, queued):
    erin = _user_with_key("erin@example.com")
    for stranger in (queued["dave_client"], erin):
        assert_envelope(_cancel(as_team(stranger, team), all=True), 404)
        assert _cancel(personal(stranger), all=True).json()["generation_ids"] == []
    assert _status(as_team(alice, team), queued["dave"]) == "in_queue"
    assert wallet(alice, team)["credits"]["remaining"] == 7


@pytest.mark.parametrize("route", ["/sdapi/v1/interrupt", "/sdapi/v1/skip"])
def test_a1111_stops_only_the_callers_personal_job(route, alice, bob, team, queued):
    """A1111's routes work in the personal space (they ignore the team header)."""
    assert as_team(bob, team).post(route).status_code == 200
    assert _status(personal(bob), queued["bob_own"]) == "cancelled"
    assert _status(as_team(bob, team), queued["bob"]) == "in_queue"
    assert personal(alice).post(route).status_code == 200
    assert _status(personal(alice), queued["alice_own"]) == "cancelled"
    assert _status(as_team(alice, team), queued["carol"]) == "in_queue"
    assert wallet(alice, team)["credits"]["remaining"] == 7


def test_the_share_panel_follows_the_change_rule_and_provenance_the_read_rule(alice, bob, carol, staff, team):
    """A team's image is shared (and unshared) by its maker and the team's admins; every member
    reads its provenance; an ex-member and an outsider get 404 for both."""
    dave = _user_with_key("dave@example.com")
    erin = _user_with_key("erin@example.com")
    join(alice, bob)
    join(alice, carol)
    join(alice, dave)
    grant(staff, team, 10)
    made = generate(as_team(bob, team)).json()["generation"]["id"]
    asset = as_team(bob, team).get(f"/api/generate/{made}").json()["generation"]["images"][0]["id"]
    assert alice.delete(f"/api/teams/{team}/members/{dave.user.uuid}").status_code in (200, 204)

    for reader in (personal(carol), personal(alice), personal(bob)):
        response = reader.get(f"/api/gallery/{asset}/provenance")
        assert response.status_code == 200, response.content
        assert response.json()["provenance"]
    for stranger in (personal(dave), personal(erin)):
        assert_envelope(stranger.get(f"/api/gallery/{asset}/provenance"), 404)

    def shared():
        return as_team(bob, team).get(f"/api/gallery/{asset}").json()["image"]

    for field, key in (("public", "is_public"), ("share-prompts", "share_prompt_metadata")):
        for stranger in (dave, erin):
            assert signed_in(stranger.user).post(f"/asset/{asset}/{field}", {key: "1"}).status_code == 404
        assert signed_in(carol.user).post(f"/asset/{asset}/{field}", {key: "1"}).status_code == 403
        assert signed_in(bob.user).post(f"/asset/{asset}/{field}", {key: "1"}).status_code == 302
        assert shared()[key] is True
        assert signed_in(carol.user).post(f"/asset/{asset}/{field}", {key: "0"}).status_code == 403
        assert shared()[key] is True
        assert signed_in(alice.user).post(f"/asset/{asset}/{field}", {key: "0"}).status_code == 302
        assert shared()[key] is False
    assert signed_in(carol.user).post(f"/asset/{asset}/delete").status_code == 403
    assert as_team(bob, team).get(f"/api/gallery/{asset}").status_code == 200


def test_the_web_star_follows_the_change_rule(alice, bob, carol, staff, team):
    """A team's image is starred on its page by its maker and the team's admins, as in the API:
    another member gets 403 and changes nothing, an outsider 404."""
    erin = _user_with_key("erin@example.com")
    join(alice, bob)
    join(alice, carol)
    grant(staff, team, 10)
    made = generate(as_team(bob, team)).json()["generation"]["id"]
    asset = as_team(bob, team).get(f"/api/generate/{made}").json()["generation"]["images"][0]["id"]

    def starred():
        return as_team(bob, team).get(f"/api/gallery/{asset}").json()["image"]["is_favorited"]

    assert as_team(carol, team).patch(f"/api/gallery/{asset}", {"is_favorited": True}, format="json").status_code == 403
    assert signed_in(erin.user).post(f"/asset/{asset}/favorite").status_code == 404
    assert signed_in(carol.user).post(f"/asset/{asset}/favorite").status_code == 403
    assert starred() is False
    assert signed_in(bob.user).post(f"/asset/{asset}/favorite").status_code == 302
    assert starred() is True
    assert signed_in(carol.user).post(f"/asset/{asset}/favorite").status_code == 403
    assert starred() is True
    assert signed_in(alice.user).post(f"/asset/{asset}/favorite").status_code == 302
    assert starred() is False


def test_a_team_admin_bulk_deletes_the_teams_assets_in_its_space_only(alice, bob, carol, staff, team):
    """The library's bulk delete takes the person's own assets; in the team's space an owner or
    admin also takes the team's, while another member deletes only their own."""
    join(alice, bob)
    join(alice, carol)
    grant(staff, team, 10)

    def made_by(client):
        made = generate(as_team(client, team)).json()["generation"]["id"]
        return as_team(client, team).get(f"/api/generate/{made}").json()["generation"]["images"][0]["id"]

    bobs, carols, more_of_bobs = made_by(bob), made_by(carol), made_by(bob)

    def alive(asset):
        return as_team(bob, team).get(f"/api/gallery/{asset}").status_code == 200

    def browser(client, space):
        web = signed_in(client.user)
        assert web.post("/teams/space", {"team": space}).status_code == 302
        return web

    # A member, even in the team's space, deletes only what they made.
    carol_web = browser(carol, team)
    assert carol_web.post("/library/delete", {"ids": [bobs, carols]}).status_code == 302
    assert alive(bobs) and not alive(carols)
    # The owner in her personal space deletes nothing of the team's.
    assert browser(alice, "").post("/library/delete", {"ids": [bobs]}).status_code == 302
    assert alive(bobs)
    # In the team's space she deletes the team's assets.
    assert browser(alice, team).post("/library/delete", {"ids": [bobs, more_of_bobs]}).status_code == 302
    assert not alive(bobs) and not alive(more_of_bobs)
