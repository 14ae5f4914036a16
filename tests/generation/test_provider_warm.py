"""Workers warm the configured providers before their pool forks (config/celery.py)."""

import logging

import pytest

from generation import providers
from generation.providers import Provider
from generation.providers.clients.replicate import replicate_sdk_client as replicate_client


class _Counting(Provider):
    def __init__(self, name: str, *, configured: bool, fails: bool = False) -> None:
        self.name, self.configured, self.fails, self.warmed = name, configured, fails, 0

    def is_configured(self) -> bool:
        return self.configured

    def warm(self) -> None:
        if self.fails:
            raise RuntimeError("no SDK here")
        self.warmed += 1


@pytest.fixture
def registered():
    added = []

    def register(provider: Provider) -> Provider:
        providers.register(provider)
        added.append(provider.name)
        return provider

    yield register
    for name in added:
        providers.unregister(name)


def test_only_configured_providers_are_warmed_and_a_failure_leaves_one_cold(registered, caplog):
    ready = registered(_Counting("ready", configured=True))
    unset = registered(_Counting("unset", configured=False))
    registered(_Counting("broken", configured=True, fails=True))
    with caplog.at_level(logging.WARNING, logger="generation.providers"):
        warmed = providers.providers_warm()
    assert "ready" in warmed and "local" in warmed
    assert "unset" not in warmed and "broken" not in warmed
    assert (ready.warmed, unset.warmed) == (1, 0)
    assert "Could not warm provider broken" in caplog.text


def test_an_sdk_client_is_built_once_per_configuration(settings):
    settings.REPLICATE_API_TOKEN = "r8_first"
    settings.REPLICATE_BASE_URL = "http://127.0.0.1:9/v1"
    providers.get("replicate").warm()
    first = replicate_client()
    assert replicate_client() is first
    settings.REPLICATE_API_TOKEN = "r8_second"
    assert replicate_client() is not first


def test_the_worker_warms_the_providers_when_it_starts(registered):
    from config.celery import _warm_providers

    ready = registered(_Counting("ready", configured=True))
    _warm_providers(sender=None)
    assert ready.warmed == 1
