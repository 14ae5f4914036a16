from urllib.parse import unquote

from django.core import mail

from teams.models import Membership
from tests.helpers import signed_in


def _invite(alice, team, email):
    response = alice.post(f"/api/teams/{team}/invites", {"email": email}, format="json")
    return response.json()["invite"]["token"]


def test_invite_link_sends_a_visitor_to_sign_up_and_back(alice, team, anon):
    token = _invite(alice, team, "newcomer@example.com")
    response = anon.get(f"/teams/join/{token}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/signup/")
    assert unquote(response["Location"]).endswith(f"next=/teams/join/{token}")


def test_signed_in_invitee_joins_with_one_button(alice, bob, team):
    token = _invite(alice, team, "bob@example.com")
    browser = signed_in(bob.user)
    page = browser.get(f"/teams/join/{token}")
    assert page.status_code == 200
    assert "Join Studio North" in page.content.decode()
    response = browser.post(f"/teams/join/{token}")
    assert response.status_code == 302 and response["Location"] == f"/teams/{team}"
    assert Membership.objects.filter(team_id=team, user=bob.user, role="member").exists()
    page = browser.get(f"/teams/{team}").content.decode()
    assert "bob@example.com" in page and "alice@example.com" in page


def test_the_team_page_is_404_for_outsiders(alice, bob, team):
    assert signed_in(bob.user).get(f"/teams/{team}").status_code == 404
    assert signed_in(bob.user).get("/teams/join/unknown").status_code == 404


def test_owner_invites_from_the_team_page(alice, team, django_capture_on_commit_callbacks):
    browser = signed_in(alice.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/teams/{team}", {"email": "zoe@example.com", "role": "member"})
    assert response.status_code == 302
    page = browser.get(f"/teams/{team}").content.decode()
    assert "Invite sent to zoe@example.com" in page and "zoe@example.com — member" in page
    assert mail.outbox[0].to == ["zoe@example.com"]


def test_the_team_page_sets_roles_and_caps_and_says_what_it_refuses(alice, bob, team):
    from tests.teams.conftest import join

    join(alice, bob)
    owner = signed_in(alice.user)
    url = f"/teams/{team}/members/{bob.user.uuid}"
    owner.post(url, {"role": "admin", "monthly_credit_cap": "7", "daily_generation_cap": ""})
    row = Membership.objects.get(team_id=team, user=bob.user)
    assert (row.role, row.monthly_credit_cap, row.daily_generation_cap) == ("admin", 7, None)
    page = owner.post(url, {"monthly_credit_cap": "lots"}, follow=True).content.decode()
    assert "A cap is a whole number" in page
    assert Membership.objects.get(team_id=team, user=bob.user).monthly_credit_cap == 7
    # Bob, now an admin, may not touch the owner.
    page = signed_in(bob.user).post(f"/teams/{team}/members/{alice.user.uuid}", {"role": "member"}, follow=True)
    assert "Only the team&#x27;s owners may make or unmake owners" in page.content.decode()
    assert Membership.objects.get(team_id=team, user=alice.user).role == "owner"
