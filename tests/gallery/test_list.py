from datetime import timedelta

import pytest
from django.utils import timezone

from gallery.models import Asset
from gallery.services import collection_create
from tests.gallery.conftest import make_asset
from tests.helpers import assert_envelope


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["images"]]


@pytest.fixture
def library(alice, bob):
    """Six of alice's assets that differ in one attribute each, and one of bob's."""
    user = alice.user
    board = collection_create(owner=user, name="Posters")
    assets = {
        "plain": make_asset(user, minutes_ago=60, prompt="a red fox in the snow", model="fal-ai/flux/dev"),
        "video": make_asset(user, minutes_ago=50, type="video", format="mp4", prompt="waves", model="wan"),
        "styled": make_asset(user, minutes_ago=40, style="watercolor", prompt="a harbour", format="webp"),
        "fav": make_asset(user, minutes_ago=30, flags={"is_favorited": True}, prompt="Red sky at night"),
        "public": make_asset(user, minutes_ago=20, flags={"is_public": True}, collection=board),
        "nsfw": make_asset(user, minutes_ago=10, flags={"is_nsfw": True}, format="jpeg"),
    }
    Asset.objects.filter(pk=assets["plain"].pk).update(created_at=timezone.now() - timedelta(days=3))
    make_asset(bob.user, prompt="bob's red fox")
    assets["board"] = board
    return assets


def test_list_is_newest_first_and_only_mine(alice, library):
    order = ["nsfw", "public", "fav", "styled", "video", "plain"]
    assert _ids(alice.get("/api/gallery")) == [str(library[name].id) for name in order]
    assert _ids(alice.get("/api/gallery?sort=oldest")) == [str(library[name].id) for name in reversed(order)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=video", ["video"]),
        ("type=image&model=fal-ai/flux/dev", ["plain"]),
        ("type=all&style=watercolor", ["styled"]),
        ("format=WEBP", ["styled"]),
        ("format=jpg", ["nsfw"]),
        ("favorites=true", ["fav"]),
        ("public=1", ["public"]),
        ("nsfw=true", ["nsfw"]),
        ("q=red", ["fav", "plain"]),
        ("q=RED&favorites=false", ["plain"]),
    ],
)
def test_filters(alice, library, query, expected):
    assert _ids(alice.get(f"/api/gallery?{query}")) == [str(library[name].id) for name in expected]


def test_collection_filter(alice, library):
    board = library["board"]
    assert _ids(alice.get(f"/api/gallery?collection={board.id}")) == [str(library["public"].id)]


def test_date_filters_are_whole_days(alice, library):
    today = timezone.now().date()
    three_days_ago = today - timedelta(days=3)
    assert _ids(alice.get(f"/api/gallery?date_to={three_days_ago}")) == [str(library["plain"].id)]
    assert len(_ids(alice.get(f"/api/gallery?date_from={today - timedelta(days=1)}"))) == 5
    assert _ids(alice.get(f"/api/gallery?date_from={today + timedelta(days=1)}")) == []


@pytest.mark.parametrize(
    "query", ["type=sculpture", "date_from=yesterday", "collection=42", "sort=sideways", "limit=0", "limit=101"]
)
def test_bad_filters_answer_400_in_the_envelope(alice, library, query):
    assert_envelope(alice.get(f"/api/gallery?{query}"), 400, "validation_error")


def test_favorites_list(alice, library):
    response = alice.get("/api/gallery/favorites/list")
    assert _ids(response) == [str(library["fav"].id)]
    assert response.json()["pagination"]["total"] == 1


def test_bob_sees_none_of_alices_assets(bob, library):
    assert len(_ids(bob.get("/api/gallery"))) == 1
    assert _ids(bob.get("/api/gallery?q=red")) == _ids(bob.get("/api/gallery"))
    assert _ids(bob.get("/api/gallery/favorites/list")) == []
    assert _ids(bob.get(f"/api/gallery?collection={library['board'].id}")) == []


def test_anonymous_is_refused(anon):
    assert_envelope(anon.get("/api/gallery"), 401, "authentication_required")
