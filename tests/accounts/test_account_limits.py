"""The account page shows each limit with what is used, what is left and when it resets, and a
ledger that reads as words."""

import re
import uuid

import pytest
import time_machine

from credits.services import credits_grant
from tests.helpers import generate_done, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def enforced(settings):
    settings.RATELIMIT_ENABLE = True
    settings.ATELIER_QUOTAS_ENABLED = True


def _row(html: str, name: str) -> str:
    return re.search(rf'<tr data-limit="{name}">(.*?)</tr>', html, re.S).group(1)


def _cells(row: str) -> list[str]:
    # The first cell names the limit; then used, left and when it resets.
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)][1:]


def test_the_account_page_shows_each_limit_used_left_and_reset(alice, enforced):
    with time_machine.travel("2026-03-10T15:20:00Z", tick=False):
        generate_done(alice, width=64, height=64)
        html = signed_in(alice.user).get("/account").content.decode()

    hourly = _row(html, "hourly_requests")
    assert "API requests per hour: 100" in hourly
    used, left, resets = _cells(hourly)
    assert (used, left) == ("2", "98")
    assert re.match(r"\d\d:\d\d UTC \(in \d+", resets)

    daily = _row(html, "daily_generations")
    assert "Generations per day: 50" in daily
    assert _cells(daily) == ["1", "49", "00:00 UTC (in 8\xa0hours, 40\xa0minutes)"]

    rate = _row(html, "generation")
    assert "Generations per minute: 10" in rate
    assert _cells(rate)[:2] == ["1", "9"]
    assert re.search(r"UTC \(in \d+ seconds?\)", _cells(rate)[2])
    assert "never count" in html


def test_a_limit_with_nothing_used_says_so_rather_than_a_reset(bob, enforced):
    html = signed_in(bob.user).get("/account").content.decode()
    assert _cells(_row(html, "generation")) == ["0", "10", "Nothing used yet"]
    assert _cells(_row(html, "daily_generations")) == ["0", "50", "Nothing used yet"]


def test_limits_switched_off_say_so_on_the_page(alice):
    html = signed_in(alice.user).get("/account").content.decode()
    assert "Not enforced on this server" in _row(html, "hourly_requests")


def test_the_ledger_reads_as_words_with_the_id_kept_apart(alice):
    job_id = str(uuid.uuid4())
    credits_grant(user=alice.user, amount=5, reason=f"LoRA training hold {job_id}")
    html = signed_in(alice.user).get("/account").content.decode()
    assert f'data-reference="{job_id}">LoRA training hold</td>' in html
    assert f">LoRA training hold {job_id}" not in html
