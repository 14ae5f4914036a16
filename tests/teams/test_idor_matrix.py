"""Isolation: every object route, for a team's objects and a person's own, with a member, an
admin, an ex-member and an outsider. A non-member gets 404 everywhere (never 403); a member
sees the team's objects and changes only what they made; nothing moves between spaces."""

import pytest

from tests.helpers import assert_envelope, generate_done
from tests.teams.conftest import _user_with_key, join
from tests.teams.test_team_wallet import as_team, grant, personal
from tests.training.factories import image_files, start, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(alice, bob, carol, staff, team):
    """Alice owns the team; Bob (member) made its objects; Carol is a member; Dave was a member
    and left; Erin never was. Bob also has objects of his own."""
    dave = _user_with_key("dave@example.com")
    erin = _user_with_key("erin@example.com")
    join(alice, bob)
    join(alice, carol)
    join(alice, dave)
    grant(staff, team, 1000)
    maker = as_team(bob, team)
    generation = generate_done(maker)
    assert generation["status"] == "completed" and generation["team"] == team
    asset = generation["images"][0]["id"]
    collection = maker.post("/api/collections", {"name": "Moodboard"}, format="json").json()["collection"]["id"]
    assert maker.post(f"/api/collections/{collection}/assets", {"asset_ids": [asset]}, format="json").status_code == 200
    dataset = upload(personal(bob), image_files(4))
    training = start(as_team(bob, team), dataset, steps=30).json()["training_id"]
    lora = as_team(bob, team).get(f"/api/training/status/{training}").json()["lora_id"]
    assert lora
    own = generate_done(personal(bob))
    own_collection = personal(bob).post("/api/collections", {"name": "Mine"}, format="json").json()["collection"]["id"]
    alice.delete(f"/api/teams/{team}/members/{dave.user.uuid}")
    return {
        "people": {"member": personal(carol), "admin": personal(alice), "ex-member": dave, "outsider": erin},
        "team": {
            "generation": generation["id"],
            "asset": asset,
            "collection": collection,
            "training": training,
            "lora": lora,
        },
        "own": {"generation": own["id"], "asset": own["images"][0]["id"], "collection": own_collection},
    }


def _reads(ids):
    return [
        f"/api/generate/{ids['generation']}",
        f"/api/gallery/{ids['asset']}",
        f"/api/gallery/{ids['asset']}/file",
        f"/api/gallery/{ids['asset']}/thumbnail",
        f"/api/gallery/{ids['asset']}/download",
        f"/api/gallery/{ids['asset']}/provenance",
        f"/api/collections/{ids['collection']}",
        f"/api/collections/{ids['collection']}/assets",
        *(
            [
                f"/api/training/{ids['training']}",
                f"/api/training/status/{ids['training']}",
                f"/api/training/{ids['training']}/files/model.safetensors",
                f"/api/loras/{ids['lora']}",
            ]
            if "training" in ids
            else []
        ),
    ]


def _writes(ids):
    return [
        ("patch", f"/api/gallery/{ids['asset']}", {"is_favorited": True}),
        ("patch", f"/api/gallery/{ids['asset']}", {"is_public": True}),
        ("patch", f"/api/collections/{ids['collection']}", {"name": "Taken"}),
        ("post", f"/api/collections/{ids['collection']}/assets", {"asset_ids": [ids["asset"]]}),
        *(
            [("patch", f"/api/loras/{ids['lora']}", {"name": "Taken"}), ("delete", f"/api/loras/{ids['lora']}", None)]
            if "lora" in ids
            else []
        ),
        ("delete", f"/api/collections/{ids['collection']}", None),
        ("delete", f"/api/gallery/{ids['asset']}", None),
        ("delete", f"/api/generate/{ids['generation']}", None),
    ]


def _status(client, method, path, body=None):
    response = getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
    if response.status_code >= 400:
        assert_envelope(response, response.status_code)
    return response.status_code


def test_the_idor_matrix_shows_no_leak(world):
    leaks, table = [], []
    for role, client in world["people"].items():
        for path in _reads(world["team"]):
            code = _status(client, "get", path)
            expected = 200 if role in ("member", "admin") else 404
            table.append((role, "GET", path, code))
            if code != expected:
                leaks.append((role, "GET", path, code, expected))
        for path in _reads(world["own"]):
            code = _status(client, "get", path)
            table.append((role, "GET own", path, code))
            if code != 404:
                leaks.append((role, "GET someone's own", path, code, 404))
        for method, path, body in _writes(world["own"]):
            code = _status(client, method, path, body)
            if code != 404:
                leaks.append((role, method, path, code, 404))
        if role in ("ex-member", "outsider"):
            for method, path, body in _writes(world["team"]):
                code = _status(client, method, path, body)
                if code != 404:
                    leaks.append((role, method, path, code, 404))
    # A member who did not make them may file into the team's collection but not change or delete
    # the team's things (403); the team's admin may.
    member = world["people"]["member"]
    for method, path, body in _writes(world["team"]):
        code = _status(member, method, path, body)
        expected = 200 if path.endswith("/assets") else 403
        if code != expected:
            leaks.append(("member", method, path, code, expected))
    admin = world["people"]["admin"]
    for method, path, body in _writes(world["team"]):
        code = _status(admin, method, path, body)
        # The generation is finished: cancelling it is refused as a conflict, not for want of rights.
        if code in (403, 404):
            leaks.append(("admin", method, path, code, "allowed"))
    assert leaks == [], leaks
    assert len(table) >= 60


def test_nothing_moves_between_spaces(world, bob, team):
    ids, own = world["team"], world["own"]
    # (as_team and personal set the client's credentials for the calls that follow.)
    # A team asset into a personal collection, a personal asset into the team's collection.
    assert_envelope(
        personal(bob).patch(f"/api/gallery/{ids['asset']}", {"collection": own["collection"]}, format="json"), 400
    )
    assert_envelope(
        as_team(bob, team).post(
            f"/api/collections/{ids['collection']}/assets", {"asset_ids": [own["asset"]]}, format="json"
        ),
        404,
    )
    assert_envelope(
        personal(bob).post(
            f"/api/collections/{own['collection']}/assets", {"asset_ids": [ids["asset"]]}, format="json"
        ),
        404,
    )
    # Generating in the team into a personal collection, or personally into the team's.
    assert_envelope(generate_response(as_team(bob, team), collection=own["collection"]), 400)
    assert_envelope(generate_response(personal(bob), collection=ids["collection"]), 400)
    assert personal(bob).get(f"/api/gallery/{ids['asset']}").json()["image"]["team"] == team


def test_lists_show_only_their_space(world, bob, team):
    ids, own = world["team"], world["own"]
    team_images = [row["id"] for row in as_team(bob, team).get("/api/gallery").json()["images"]]
    own_images = [row["id"] for row in personal(bob).get("/api/gallery").json()["images"]]
    assert ids["asset"] in team_images and own["asset"] not in team_images
    assert own["asset"] in own_images and ids["asset"] not in own_images
    carol_team = [row["id"] for row in as_team(world["people"]["member"], team).get("/api/gallery").json()["images"]]
    assert ids["asset"] in carol_team
    for role in ("ex-member", "outsider"):
        assert_envelope(as_team(world["people"][role], team).get("/api/gallery"), 404)
        assert_envelope(as_team(world["people"][role], team).get("/api/collections"), 404)
        assert_envelope(as_team(world["people"][role], team).get("/api/loras"), 404)


def generate_response(client, **payload):
    from tests.helpers import generate

    return generate(client, **payload)
