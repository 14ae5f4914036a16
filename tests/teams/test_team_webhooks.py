"""Outbound webhooks say which team a generation was made in."""

import pytest

from tests.helpers import generate
from tests.teams.conftest import join
from tests.teams.test_team_wallet import as_team, grant, personal
from tests.webhooks.conftest import receiver, run_due_deliveries  # noqa: F401 - the receiver fixture

pytestmark = pytest.mark.django_db


def test_image_generated_carries_the_team_id(alice, bob, staff, team, receiver):  # noqa: F811
    join(alice, bob)
    grant(staff, team, 10)
    secret = bob.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"]
    made = generate(as_team(bob, team), webhook_url=receiver.url("/team")).json()["generation"]["id"]
    own = generate(personal(bob), webhook_url=receiver.url("/own")).json()["generation"]["id"]
    run_due_deliveries()
    by_path = {request.path: request.verified(secret)["data"] for request in receiver.received}
    assert by_path["/team"]["generation_id"] == made and by_path["/team"]["team_id"] == team
    assert by_path["/own"]["generation_id"] == own and by_path["/own"]["team_id"] is None


@pytest.mark.django_db(transaction=True)
def test_every_in_progress_event_carries_the_team_id(alice, bob, staff, team, receiver):  # noqa: F811
    """image.started, image.log and image.preview say the team too, as the terminal event does."""
    join(alice, bob)
    grant(staff, team, 10)
    secret = bob.get("/api/user/webhook-secret").json()["webhook_secret"]["secret"]
    wanted = ["start", "preview", "logs", "completed"]
    for space, path in ((as_team, "/team"), (lambda client, _: personal(client), "/own")):
        response = generate(
            space(bob, team), width=64, height=64, webhook_url=receiver.url(path), webhook_events_filter=wanted
        )
        assert response.status_code == 201, response.content
    run_due_deliveries()
    events = [(request.path, request.verified(secret)) for request in receiver.received]
    for path, team_id in (("/team", team), ("/own", None)):
        types = {event["type"]: event["data"]["team_id"] for at, event in events if at == path}
        assert set(types) == {"image.started", "image.log", "image.preview", "image.generated"}, types
        assert set(types.values()) == {team_id}, types
