"""An operator's first steps: the first admin by email alone, and the demo account of `make run`."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def _seed_demo(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _printed_key(output: str) -> str:
    line = next(line for line in output.splitlines() if "API key:" in line)
    return line.split("API key:")[1].split()[0]


def test_createsuperuser_needs_only_an_email(monkeypatch, anon):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long operator passphrase")
    call_command("createsuperuser", "--noinput", "--email", "Ops@Example.com", stdout=io.StringIO())
    operator = User.objects.get(email="ops@example.com")
    assert operator.is_superuser and operator.is_staff
    assert operator.username == "ops@example.com"
    assert signed_in(operator).get("/admin/").status_code == 200


def test_demo_account_is_an_ordinary_user_and_the_operator_command_is_printed(anon):
    output = _seed_demo()
    demo = User.objects.get(email="demo@atelier.local")
    assert not demo.is_staff and not demo.is_superuser
    assert "createsuperuser --email" in output
    response = signed_in(demo).get("/admin/")
    assert response.status_code == 302  # the admin sends it to its own sign-in


def test_demo_api_key_stays_the_same_across_runs_unless_a_new_one_is_asked_for(anon):
    first = _printed_key(_seed_demo())
    assert first.startswith("atl_")
    again = _seed_demo()
    assert "unchanged" in again
    prefix = "_".join(first.split("_")[:2])
    assert _printed_key(again) == f"{prefix}_…"
    assert anon.get("/api/credits", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 200

    replaced = _printed_key(_seed_demo("--new-key"))
    assert replaced.startswith("atl_") and replaced != first
    assert anon.get("/api/credits", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert anon.get("/api/credits", HTTP_AUTHORIZATION=f"Bearer {replaced}").status_code == 200


def test_an_earlier_demo_superuser_is_made_ordinary(anon):
    from accounts.services import user_create

    user_create(email="demo@atelier.local", password="atelier-demo", is_staff=True, is_superuser=True)
    _seed_demo()
    demo = User.objects.get(email="demo@atelier.local")
    assert not demo.is_staff and not demo.is_superuser
