"""Seed 001's legacy ``POST /api/delete-image``: by any URL of the image we handed out."""

import pytest

from tests.helpers import assert_envelope, generate_done

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("which", ["url", "absolute", "download", "storage_path"])
def test_the_owner_deletes_an_image_by_its_url(alice, which):
    image = generate_done(alice, width=64, height=64)["images"][0]
    if which == "absolute":
        url = f"http://testserver{image['url']}" if image["url"].startswith("/") else image["url"]
    elif which == "storage_path":
        from gallery.models import Asset

        url = Asset.objects.get(pk=image["id"]).file.url
    elif which == "download":
        url = f"/asset/{image['id']}/download?format=webp"
    else:
        url = image[which]
    response = alice.post("/api/delete-image", {"url": url}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    assert_envelope(alice.get(f"/api/gallery/{image['id']}"), 404)


def test_another_users_image_or_an_unknown_url_is_a_404(alice, bob):
    image = generate_done(alice, width=64, height=64)["images"][0]
    assert_envelope(bob.post("/api/delete-image", {"url": image["url"]}, format="json"), 404)
    assert_envelope(alice.post("/api/delete-image", {"url": "/static/generated/img_123.png"}, format="json"), 404)
    assert_envelope(alice.post("/api/delete-image", {}, format="json"), 400)
    assert alice.get(f"/api/gallery/{image['id']}").status_code == 200
