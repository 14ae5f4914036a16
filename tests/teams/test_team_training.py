"""Training in a team: the policy, the wallet, and the team's LoRA its members use."""

import pytest

from tests.helpers import assert_envelope, credits_remaining, generate_done
from tests.teams.conftest import join
from tests.teams.test_team_wallet import as_team, grant, personal, wallet
from tests.training.factories import image_files, start, upload

pytestmark = pytest.mark.django_db


def test_members_may_not_train_when_the_team_says_so(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 500)
    alice.patch(f"/api/teams/{team}", {"members_may_train": False}, format="json")
    dataset = upload(personal(bob), image_files(4))
    body = assert_envelope(start(as_team(bob, team), dataset), 400, "validation_error")
    assert body["error"] == "Members of this team may not train"
    assert wallet(alice, team)["credits"]["remaining"] == 500
    assert as_team(bob, team).get("/api/training").json()["trainings"] == []


def test_a_team_training_is_paid_by_the_wallet_and_its_lora_serves_every_member(alice, bob, carol, staff, team):
    join(alice, bob)
    grant(staff, team, 500)
    dataset = upload(personal(alice), image_files(6))
    personal_before = credits_remaining(personal(alice))
    started = start(as_team(alice, team), dataset, steps=60)
    assert started.status_code == 201, started.content
    cost = started.json()["cost"]
    assert credits_remaining(personal(alice)) == personal_before
    status = as_team(alice, team).get(f"/api/training/status/{started.json()['training_id']}").json()
    assert status["status"] == "completed", status
    lora_id = status["lora_id"]
    assert wallet(alice, team)["credits"]["remaining"] == 500 - cost
    # Bob, a member, sees the team's LoRA in the team's space and uses it.
    assert [row["id"] for row in as_team(bob, team).get("/api/loras").json()["loras"]] == [lora_id]
    assert personal(bob).get("/api/loras").json()["loras"] == []
    styled = generate_done(as_team(bob, team), loras=[{"path": lora_id, "scale": 1.0}])
    assert styled["status"] == "completed", styled
    assert "filmlook" in styled["final_prompt"]
    # Bob may not delete it (not its creator, not an admin); an outsider does not see it.
    assert_envelope(as_team(bob, team).delete(f"/api/loras/{lora_id}"), 403, "permission_denied")
    assert_envelope(carol.get(f"/api/loras/{lora_id}"), 404)
    assert_envelope(generate_done_response(carol, lora_id), 400)
    assert alice.delete(f"/api/loras/{lora_id}").status_code == 200


def generate_done_response(client, lora_id):
    from tests.helpers import generate

    return generate(client, loras=[{"path": lora_id, "scale": 1.0}])


def test_a_dataset_uploaded_in_a_team_stays_its_uploaders(alice, bob, carol, staff, team):
    """The upload is the uploader's (docs/teams.md): they train on it in the team, and download
    it; another member of the team can do neither."""
    join(alice, bob)
    join(alice, carol)
    grant(staff, team, 500)
    dataset = upload(as_team(bob, team), image_files(4))
    assert "team" not in dataset
    assert personal(bob).get(f"/api/training/datasets/{dataset['dataset_id']}").status_code == 200
    assert_envelope(personal(carol).get(f"/api/training/datasets/{dataset['dataset_id']}"), 404)
    assert_envelope(start(as_team(carol, team), dataset), 404)
    assert wallet(alice, team)["credits"]["remaining"] == 500
    started = start(as_team(bob, team), dataset, steps=30)
    assert started.status_code == 201, started.content
