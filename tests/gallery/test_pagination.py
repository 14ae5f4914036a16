import pytest
from django.db import connection

from tests.gallery.conftest import make_asset
from tests.helpers import assert_envelope


@pytest.fixture
def twenty_five(alice):
    # Some share one timestamp, so the id breaks ties.
    assets = [make_asset(alice.user, minutes_ago=index // 3) for index in range(25)]
    return assets


def _walk(client, query: str) -> tuple[list[str], int]:
    seen, cursor, calls = [], "", 0
    while True:
        body = client.get(f"/api/gallery?{query}&cursor={cursor}").json()
        calls += 1
        seen += [item["id"] for item in body["images"]]
        if not body["pagination"]["has_next"]:
            assert body["pagination"]["next_cursor"] is None
            return seen, calls
        cursor = body["pagination"]["next_cursor"]


def test_page_and_limit_answer_the_seed_shape(alice, twenty_five):
    body = alice.get("/api/gallery?page=2&limit=10").json()
    assert body["success"] is True
    assert len(body["images"]) == 10
    pagination = body["pagination"]
    assert {k: pagination[k] for k in ("page", "limit", "total", "pages", "has_next", "has_prev")} == {
        "page": 2,
        "limit": 10,
        "total": 25,
        "pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    everything = [item["id"] for item in alice.get("/api/gallery?limit=100").json()["images"]]
    assert [item["id"] for item in body["images"]] == everything[10:20]
    last = alice.get("/api/gallery?page=3&limit=10").json()
    assert len(last["images"]) == 5 and last["pagination"]["has_next"] is False
    assert alice.get("/api/gallery?page=9&limit=10").json()["images"] == []


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_cursor_walks_every_asset_once_in_order(alice, twenty_five, sort):
    listed = [item["id"] for item in alice.get(f"/api/gallery?limit=100&sort={sort}").json()["images"]]
    seen, calls = _walk(alice, f"limit=7&sort={sort}")
    assert seen == listed
    assert calls == 4


def test_cursor_pages_have_no_duplicates_or_gaps_while_assets_arrive(alice, twenty_five):
    before = {str(a.id) for a in twenty_five}
    seen, cursor = [], ""
    arrived = []
    for _ in range(10):
        body = alice.get(f"/api/gallery?limit=6&cursor={cursor}").json()
        seen += [item["id"] for item in body["images"]]
        arrived.append(str(make_asset(alice.user).id))
        if not body["pagination"]["has_next"]:
            break
        cursor = body["pagination"]["next_cursor"]
    assert len(seen) == len(set(seen))
    assert set(seen) == before
    # Oldest first, the new arrivals come at the end and are not missed either.
    seen_oldest, _ = _walk(alice, "limit=6&sort=oldest")
    assert seen_oldest[-len(arrived) :] == arrived
    assert len(seen_oldest) == len(set(seen_oldest)) == 25 + len(arrived)


def test_page_mode_hands_over_a_cursor(alice, twenty_five):
    first = alice.get("/api/gallery?limit=10").json()
    following = alice.get(f"/api/gallery?limit=10&cursor={first['pagination']['next_cursor']}").json()
    second_page = alice.get("/api/gallery?limit=10&page=2").json()
    assert [i["id"] for i in following["images"]] == [i["id"] for i in second_page["images"]]


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "W10"])
def test_a_bad_cursor_is_a_400(alice, twenty_five, cursor):
    assert_envelope(alice.get(f"/api/gallery?cursor={cursor}"), 400, "validation_error")


def test_a_cursor_cannot_change_sort_order(alice, twenty_five):
    cursor = alice.get("/api/gallery?limit=5&cursor=").json()["pagination"]["next_cursor"]
    assert_envelope(alice.get(f"/api/gallery?sort=oldest&cursor={cursor}"), 400, "validation_error")


def test_bobs_cursor_walk_never_shows_alices_assets(bob, twenty_five):
    seen, _ = _walk(bob, "limit=5")
    assert seen == []


@pytest.mark.postgres
def test_cursor_query_seeks_the_owner_index(alice, twenty_five):
    from django.test.utils import CaptureQueriesContext

    cursor = alice.get("/api/gallery?limit=5&cursor=").json()["pagination"]["next_cursor"]
    with CaptureQueriesContext(connection) as queries:
        alice.get(f"/api/gallery?limit=5&cursor={cursor}")
    sql = next(q["sql"] for q in queries.captured_queries if "gallery_asset" in q["sql"] and "LIMIT" in q["sql"])
    with connection.cursor() as db:
        db.execute("SET enable_seqscan = off")
        db.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in db.fetchall())
    assert "asset_owner_newest" in plan
    assert "Sort" not in plan.split("->")[0]
