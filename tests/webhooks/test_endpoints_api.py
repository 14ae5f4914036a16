"""``/admin/api/webhooks``: staff manage endpoints; users get 403; bad input is a 400 envelope."""

import pytest

from tests.helpers import assert_envelope
from tests.webhooks.conftest import create_endpoint

pytestmark = pytest.mark.django_db

GOOD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_staff_create_an_endpoint_with_a_generated_secret(staff, receiver):
    webhook = create_endpoint(staff, receiver.url(), events=["image.generated", "user.registered"])
    assert webhook["secret"].startswith("whsec_")
    assert webhook["events"] == ["image.generated", "user.registered"]
    assert webhook["is_active"] is True
    listed = staff.get("/admin/api/webhooks").json()
    assert [row["id"] for row in listed["webhooks"]] == [webhook["id"]]
    assert "secret" not in listed["webhooks"][0]
    assert staff.get(f"/admin/api/webhooks/{webhook['id']}").json()["webhook"]["secret"] == webhook["secret"]


def test_a_given_secret_is_kept(staff, receiver):
    assert create_endpoint(staff, receiver.url(), secret=GOOD_SECRET)["secret"] == GOOD_SECRET


def test_staff_update_and_delete_an_endpoint(staff, receiver):
    webhook = create_endpoint(staff, receiver.url())
    response = staff.patch(
        f"/admin/api/webhooks/{webhook['id']}", {"events": ["credits.low"], "is_active": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["webhook"]["events"] == ["credits.low"]
    assert response.json()["webhook"]["is_active"] is False
    assert response.json()["webhook"]["disabled_reason"] == "Disabled by staff"
    assert staff.delete(f"/admin/api/webhooks/{webhook['id']}").status_code == 204
    assert_envelope(staff.get(f"/admin/api/webhooks/{webhook['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["image.deleted"]}, "events"),
        ({"secret": "your-webhook-secret"}, "secret"),
        ({"secret": "whsec_c2hvcnQ="}, "secret"),
        ({"events": "image.generated"}, "events"),
    ],
)
def test_bad_input_is_400_with_the_field(staff, receiver, body, field):
    response = staff.post("/admin/api/webhooks", {"url": receiver.url(), **body}, format="json")
    assert field in assert_envelope(response, 400, "validation_error")["details"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hooks",
        "http://localhost:9/hooks",
        "ftp://example.com/hooks",
        "http://user:pass@127.0.0.2/",
        "not a url",
    ],
)
def test_urls_to_private_addresses_and_other_schemes_are_refused(staff, url):
    response = staff.post("/admin/api/webhooks", {"url": url}, format="json")
    assert "url" in assert_envelope(response, 400, "validation_error")["details"]


def test_unknown_endpoint_is_404(staff):
    assert_envelope(staff.get("/admin/api/webhooks/00000000-0000-0000-0000-000000000000"), 404, "not_found")
    assert_envelope(staff.get("/admin/api/webhooks/not-a-uuid"), 404, "not_found")
    assert_envelope(staff.post("/admin/api/webhooks/not-a-uuid/test"), 404, "not_found")


@pytest.mark.parametrize("method", ["get", "post"])
def test_users_get_403(alice, staff, receiver, method):
    webhook = create_endpoint(staff, receiver.url())
    assert_envelope(getattr(alice, method)("/admin/api/webhooks", {"url": receiver.url()}, format="json"), 403)
    assert_envelope(alice.get(f"/admin/api/webhooks/{webhook['id']}"), 403)
    assert_envelope(alice.post(f"/admin/api/webhooks/{webhook['id']}/test"), 403)
    assert_envelope(alice.post(f"/admin/api/webhooks/{webhook['id']}/rotate-secret"), 403)
    assert receiver.received == []
