"""The embedded run (`make run`) presents the product: DEBUG off unless asked for, styled error
pages for people and the envelope for programs, static files, users' files and a status page,
all served by runserver on the development settings."""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import path
from django.utils.functional import SimpleLazyObject

from config.urls import urlpatterns as site_urlpatterns
from ops.views import server_error, status_page
from tests.helpers import assert_envelope, signed_in, wait_until

pytestmark = pytest.mark.django_db

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
REPO = Path(settings.BASE_DIR)


def _page_that_fails(request):
    raise RuntimeError("secret internals of the page")


# The site's routes plus one page that fails, for the 500 tests (pytest.mark.urls).
urlpatterns = [path("page-that-fails", _page_that_fails), *site_urlpatterns]
handler404 = "ops.views.not_found"
handler500 = "ops.views.server_error"


def test_an_unknown_page_is_the_styled_404_without_the_url_list(anon):
    assert settings.DEBUG is False
    response = anon.get("/studoi", headers=BROWSER)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "This page does not exist" in page
    assert 'class="site-footer"' in page  # the site's own page, not Django's
    assert "URLconf" not in page and "api/generate" not in page


def test_an_unknown_api_path_is_the_envelope_404_even_from_a_browser(anon):
    assert_envelope(anon.get("/api/nothing-here", headers=BROWSER), 404, "not_found")
    assert_envelope(anon.get("/api/nothing-here"), 404, "not_found")


@pytest.mark.urls("tests.ops.test_embedded_run")
def test_a_failing_page_renders_the_styled_500(alice):
    browser = signed_in(alice.user)
    browser.raise_request_exception = False
    response = browser.get("/page-that-fails", headers=BROWSER)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "alice@example.com" in page  # the signed-in header, as on every page
    assert "secret internals" not in page and "Traceback" not in page


def _unreadable_user():
    raise RuntimeError("database is gone")


def test_the_500_page_still_renders_when_the_request_cannot_be_read():
    """What broke the view (the database, say) may break looking up the signed-in user too."""
    request = RequestFactory().get("/studio", headers=BROWSER)
    request.user = SimpleLazyObject(_unreadable_user)
    response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_the_status_page_still_renders_when_the_signed_in_user_cannot_be_read():
    request = RequestFactory().get("/status", headers=BROWSER)
    request.user = SimpleLazyObject(_unreadable_user)
    response = status_page(request)
    assert response.status_code == 200
    assert "Atelier is running" in response.content.decode()


def _settings_debug(**environ) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings.dev as s; print(s.DEBUG)"],
        cwd=REPO,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_development_settings_leave_debug_off_unless_asked_for():
    assert _settings_debug() == "False"
    assert _settings_debug(DJANGO_DEBUG="1") == "True"
    assert _settings_debug(DJANGO_DEBUG="0") == "False"


def test_a_browser_gets_the_status_page_and_programs_the_json(anon):
    page = anon.get("/status", headers=BROWSER)
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "Atelier is running" in text and "Database" in text and "File storage" in text

    redirect = anon.get("/health", headers=BROWSER)
    assert redirect.status_code == 302 and redirect["Location"] == "/status"
    for accept in ("application/json", "*/*", ""):
        health = anon.get("/health", headers={"Accept": accept} if accept else {})
        assert health.status_code == 200 and health.json()["status"] == "ok"


def test_the_footer_links_to_the_status_page(anon):
    page = anon.get("/accounts/login/", headers=BROWSER).content.decode()
    assert '<a href="/status">Status</a>' in page


def test_a_failing_check_is_named_on_the_status_page_and_only_staff_read_why(anon, staff, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.ops.broken_storage.BrokenStorage"}}
    visitor = anon.get("/status", headers=BROWSER)
    assert visitor.status_code == 503
    assert "Atelier is not fully working" in visitor.content.decode()
    assert "Not working" in visitor.content.decode()
    assert "No space left on device" not in visitor.content.decode()
    operator = signed_in(staff.user).get("/status", headers=BROWSER)
    assert "No space left on device" in operator.content.decode()


# runserver on the development settings, as `make run` starts it, with DEBUG left unset.


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - the test's server on loopback
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - the same
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


_SETUP = """
import json
from django.db import transaction
from accounts.services import api_key_create, user_create
from gallery.services import asset_create
user = user_create(email="maker@example.com", password="correct horse battery")
_, key = api_key_create(user=user, name="tests")
with transaction.atomic():
    asset = asset_create(owner=user, data=open({png!r}, "rb").read(), format="png", width=64, height=48)
print(json.dumps({{"key": key, "asset": str(asset.pk)}}))
"""


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    from tests.gallery.conftest import png_bytes

    folder = tmp_path_factory.mktemp("embedded")
    png = folder / "image.png"
    png.write_bytes(png_bytes())
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "REDIS_URL", "DATABASE_URL"}
    }
    environ.update(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
        ATELIER_VAR_DIR=str(folder / "var"),
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=environ, check=True, timeout=300)
    made = subprocess.run(
        [*manage, "shell", "-c", _SETUP.format(png=str(png))],
        cwd=REPO,
        env=environ,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    made = json.loads(made.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = open(folder / "runserver.log", "w+")  # closed once the server has stopped
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def server_log() -> str:
        log.seek(0)
        return f"runserver did not start:\n{log.read()}"

    def answers() -> bool:
        try:
            _get(f"{base}/health", {"Accept": "application/json"})
            return True
        except OSError:
            if server.poll() is not None:
                pytest.fail(server_log())
            return False

    try:
        wait_until(answers, timeout=60, interval=0.2, message=server_log)
        yield {"base": base, "png": png.read_bytes(), **made}
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.seek(0)
        output = log.read()
        log.close()
    assert "Traceback" not in output, output


def test_runserver_on_the_development_settings_serves_static_files_with_debug_off(dev_server):
    status, headers, body = _get(f"{dev_server['base']}/static/css/atelier.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert b".site-footer" in body
    status, headers, _ = _get(f"{dev_server['base']}/static/admin/css/base.css")
    assert status == 200


def test_runserver_on_the_development_settings_serves_a_users_image(dev_server):
    url = f"{dev_server['base']}/api/gallery/{dev_server['asset']}/file"
    status, headers, body = _get(url, {"Authorization": f"Bearer {dev_server['key']}"})
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body == dev_server["png"]
    assert _get(url)[0] in (401, 404)  # and to no one else


def test_runserver_on_the_development_settings_presents_the_product(dev_server):
    status, headers, body = _get(f"{dev_server['base']}/studoi", BROWSER)
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert b"This page does not exist" in body and b"URLconf" not in body
    status, _, body = _get(f"{dev_server['base']}/api/studoi", BROWSER)
    assert status == 404 and json.loads(body)["type"] == "not_found"
    status, headers, body = _get(f"{dev_server['base']}/accounts/login/", BROWSER)
    assert status == 200 and b'href="/static/css/atelier.css"' in body
    # No worker runs beside this server, so the status page says so (503), in words.
    status, headers, body = _get(f"{dev_server['base']}/status", BROWSER)
    assert status in (200, 503) and headers["Content-Type"].startswith("text/html")
    assert b"Workers" in body
