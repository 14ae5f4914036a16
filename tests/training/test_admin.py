"""Staff see training jobs in the admin, filter them and cancel them with a refund."""

import pytest

from tests.helpers import credits_remaining, signed_in
from tests.training.factories import image_files, start, upload

pytestmark = pytest.mark.django_db


def test_staff_filter_and_cancel_a_job_from_the_admin(alice, staff, held_tasks):
    before = credits_remaining(alice)
    job_id = start(alice, upload(alice, image_files(3))).json()["training_id"]
    browser = signed_in(staff.user)
    page = browser.get("/admin/training/trainingjob/?status__exact=queued")
    assert page.status_code == 200 and job_id in page.content.decode()
    response = browser.post(
        "/admin/training/trainingjob/", {"action": "cancel_jobs", "_selected_action": [job_id]}, follow=True
    )
    assert response.status_code == 200
    assert "Cancelled 1 training" in response.content.decode()
    assert alice.get(f"/api/training/status/{job_id}").json()["status"] == "cancelled"
    assert credits_remaining(alice) == before
