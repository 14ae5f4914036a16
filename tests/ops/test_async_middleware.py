"""The middleware holds on both paths: WSGI (Django's Client) and ASGI (its AsyncClient, run
from these sync tests with async_to_sync), and under ASGI Django adapts none of its links."""

import logging

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.db import connections
from django.http import HttpResponse
from django.test import AsyncClient, Client
from django.utils.module_loading import import_string

from accounts.models import User
from tests.helpers import assert_envelope
from tests.ops.test_database_pool import connection_held, tiny_pool  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PROJECT_MIDDLEWARE = [path for path in settings.MIDDLEWARE if path.startswith(("core.", "ops.", "accounts."))]


def _get(client, path, **headers):
    """One GET through the client's path: plain for Client, awaited for AsyncClient."""
    if isinstance(client, AsyncClient):
        return async_to_sync(client.get)(path, headers=headers)
    return client.get(path, headers=headers)


@pytest.fixture(params=["wsgi", "asgi"])
def make_client(request):
    def make(**kwargs):
        return AsyncClient(**kwargs) if request.param == "asgi" else Client(**kwargs)

    return make


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one_from_the_client(make_client):
    client = make_client()
    mine = _get(client, "/health", **{"X-Request-ID": "trace-42"})
    assert mine.status_code == 200
    assert mine["X-Request-ID"] == "trace-42"
    fresh = _get(client, "/health", **{"X-Request-ID": "bad id; drop table"})
    assert fresh["X-Request-ID"].startswith("req_")


def test_an_unknown_api_path_is_a_404_envelope_with_its_request_id(make_client):
    body = assert_envelope(_get(make_client(), "/api/no-such-thing"), 404, "not_found")
    assert body["request_id"].startswith("req_")


def test_html_pages_carry_the_content_security_policy_and_json_does_not(make_client):
    client = make_client()
    page = _get(client, "/accounts/login/", Accept=HTML)
    assert page.status_code == 200
    assert page["Content-Security-Policy"] == settings.ATELIER_CONTENT_SECURITY_POLICY
    assert "Content-Security-Policy" not in _get(client, "/api/models")


def test_static_files_are_served(make_client):
    response = _get(make_client(), "/static/favicon.svg")
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content)


def test_a_deactivated_users_session_is_refused_by_the_api_and_sent_to_the_inactive_page(make_client, alice):
    browser = make_client()
    browser.force_login(alice.user)
    User.objects.filter(pk=alice.user.pk).update(is_active=False)
    assert_envelope(_get(browser, "/api/credits"), 403, "permission_denied")
    page = _get(browser, "/library", Accept=HTML)
    assert page.status_code == 302
    assert page["Location"] == "/accounts/inactive/"


def test_an_active_signed_in_browser_is_served(make_client, alice):
    browser = make_client()
    browser.force_login(alice.user)
    assert _get(browser, "/api/credits").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_that_cannot_be_read_is_a_503_on_both_paths(make_client, alice, tiny_pool):  # noqa: F811
    browser = make_client(raise_request_exception=False)
    browser.force_login(alice.user)
    connections.close_all()
    with connection_held():
        response = _get(browser, "/api/generate")
    assert_envelope(response, 503, "service_busy")
    assert response["Retry-After"]


def test_no_link_of_the_chain_is_adapted_under_asgi(settings, caplog):
    # Django logs each adaptation at DEBUG when DEBUG is on.
    settings.DEBUG = True
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        BaseHandler().load_middleware(is_async=True)
        BaseHandler().load_middleware(is_async=False)
    assert [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()] == []


def test_the_chain_holds_the_projects_middleware():
    # Request ids, envelope, CSP, static files, common, authentication, inactive users.
    assert len(PROJECT_MIDDLEWARE) == 7


@pytest.mark.parametrize("path", PROJECT_MIDDLEWARE)
def test_each_project_middleware_answers_in_the_kind_it_is_given(path):
    middleware = import_string(path)

    def sync_view(request):
        return HttpResponse()

    async def async_view(request):
        return HttpResponse()

    assert middleware.sync_capable and middleware.async_capable
    assert iscoroutinefunction(middleware(async_view))
    assert not iscoroutinefunction(middleware(sync_view))
