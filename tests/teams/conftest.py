import pytest

from tests.conftest import _user_with_key


@pytest.fixture
def carol(db):
    return _user_with_key("carol@example.com", full_name="Carol")


@pytest.fixture
def dave(db):
    return _user_with_key("dave@example.com", full_name="Dave")


def join(owner, member, role="member") -> None:
    """``member`` joins ``owner``'s team through an invite, as people do."""
    team_id = owner.team_id
    response = owner.post(f"/api/teams/{team_id}/invites", {"email": member.user.email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    token = response.json()["invite"]["token"]
    response = member.post(f"/api/teams/invites/{token}/accept")
    assert response.status_code == 200, response.content


@pytest.fixture
def team(alice):
    """Alice's team; ``alice.team_id`` names it."""
    response = alice.post("/api/teams", {"name": "Studio North"}, format="json")
    assert response.status_code == 201, response.content
    alice.team_id = response.json()["team"]["id"]
    return alice.team_id
