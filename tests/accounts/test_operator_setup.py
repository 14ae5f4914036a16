"""An operator's first steps: the first admin by email alone, and the demo account of `make run`."""

import io
import os
import pty
import select
import subprocess
import sys
import time

import pytest
from django.conf import settings
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


def test_an_existing_operator_is_named_instead_of_asked_for(anon):
    from accounts.services import user_create

    user_create(email="ops@example.com", password="a long operator passphrase", is_staff=True, is_superuser=True)
    output = _seed_demo()
    assert "Operators sign in at /admin/: ops@example.com." in output
    assert "createsuperuser" not in output


def _type_at_prompts(master: int, answers: dict[str, str], *, timeout: float = 120) -> str:
    """Reads what a command writes to its terminal and types each answer once its prompt shows
    (not before: getpass flushes what was typed ahead). Returns everything it wrote."""
    seen, pending = "", dict(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096).decode(errors="replace")
        except OSError:  # the command exited and closed its terminal
            return seen
        if not chunk:
            return seen
        seen += chunk
        for prompt in list(pending):
            if seen.rstrip().endswith(prompt):
                os.write(master, f"{pending.pop(prompt)}\n".encode())
    raise AssertionError(f"the command did not finish:\n{seen}")


def test_the_printed_operator_command_works_as_printed_and_opens_the_admin(tmp_path):
    environ = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL"}}
    environ.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        ATELIER_VAR_DIR=str(tmp_path / "var"),
    )
    repo = str(settings.BASE_DIR)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=repo, env=environ, check=True, timeout=300)
    seeded = subprocess.run(
        [*manage, "seed_demo"], cwd=repo, env=environ, check=True, timeout=120, capture_output=True, text=True
    )
    lines = seeded.stdout.splitlines()
    command = lines[next(i for i, line in enumerate(lines) if line.startswith("Operators sign in")) + 1].strip()
    assert "createsuperuser" in command and "you@example.com" in command

    # Pasted into a shell at the project's root, as an operator would; the password is typed
    # at its prompts, on a terminal of the command's own.
    passphrase = "a long operator passphrase"
    master, terminal = pty.openpty()
    created = subprocess.Popen(  # noqa: S602 - the printed line, run by a shell as an operator would
        command,
        shell=True,
        cwd=repo,
        env=environ,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        output = _type_at_prompts(master, {"Password:": passphrase, "Password (again):": passphrase})
        assert created.wait(timeout=60) == 0, output
    finally:
        os.close(master)
    assert "Superuser created successfully." in output

    signs_in = (
        "from django.test import Client\n"
        "client = Client()\n"
        f"client.post('/admin/login/', {{'username': 'you@example.com', 'password': {passphrase!r}}})\n"
        "print(client.get('/admin/').status_code)\n"
    )
    admin = subprocess.run(
        [*manage, "shell", "-c", signs_in], cwd=repo, env=environ, timeout=120, capture_output=True, text=True
    )
    assert admin.stdout.strip().splitlines()[-1] == "200", admin.stderr

    again = subprocess.run(
        [*manage, "seed_demo"], cwd=repo, env=environ, check=True, timeout=120, capture_output=True, text=True
    )
    assert "Operators sign in at /admin/: you@example.com." in again.stdout
