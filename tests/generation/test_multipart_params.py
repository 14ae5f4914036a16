"""Form (multipart) posts mean what the same JSON means: a field left out stays unset."""

import pytest

from tests.helpers import LOCAL_MODEL

pytestmark = pytest.mark.django_db


def test_a_boolean_left_out_of_a_form_is_not_read_as_false(alice):
    form = {"prompt": "a kite", "model": LOCAL_MODEL, "sync_mode": "false"}
    response = alice.post("/api/generate", form, format="multipart")
    assert response.status_code == 201, response.content
    assert "enable_safety_checker" not in response.json()["generation"]["params"]

    response = alice.post(
        "/api/generate",
        {**form, "enable_safety_checker": "false"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    params = response.json()["generation"]["params"]
    assert params.get("enable_safety_checker", False) is False
