"""Teams in a real browser: an owner invites, the member signs up through the link and joins,
generates on the team's wallet until their cap, and an admin raises it."""

import re

import pytest
from django.core import mail

from accounts.services import user_create
from credits.team_wallet import team_wallet_admin_adjust
from teams.models import Team

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase 42"


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _generate(page, prompt: str) -> None:
    page.get_by_label("Prompt", exact=True).fill(prompt)
    page.get_by_label("Model").select_option("local/procedural")
    page.get_by_role("button", name="Generate").click()


def _member_row(page, email: str):
    return page.locator(f'#members tr[data-member="{email}"]')


def test_owner_invites_member_joins_generates_on_the_wallet_hits_the_cap_and_admin_raises_it(
    live_server, new_page, screenshot
):
    base = live_server.url
    staff = user_create(email="ops@example.com", password=PASSWORD, is_staff=True)
    user_create(email="olive@example.com", password=PASSWORD, full_name="Olive")

    # The owner makes a team from the account page.
    owner = new_page()
    _sign_in(owner, base, "olive@example.com")
    owner.goto(f"{base}/account")
    owner.get_by_label("New team").fill("Studio North")
    owner.get_by_role("button", name="Create team").click()
    owner.wait_for_url(re.compile(r".*/teams/[0-9a-f-]{36}$"))
    team = Team.objects.get(name="Studio North")
    team_wallet_admin_adjust(team=team, action="add", amount=20, reason="Team budget", actor=staff)

    # They invite a newcomer; the mail carries the link.
    owner.get_by_label("Email").fill("mia@example.com")
    owner.get_by_role("button", name="Send invite").click()
    owner.get_by_text("Invite sent to mia@example.com").wait_for()
    link = re.search(r"https?://\S+/teams/join/\S+", mail.outbox[-1].body).group(0)

    # The newcomer opens it, signs up on the way and joins.
    member = new_page()
    member.goto(link)
    member.wait_for_url(re.compile(r".*/accounts/signup/.*"))
    member.get_by_label("Email").fill("mia@example.com")
    member.get_by_label("Password", exact=True).fill(PASSWORD)
    member.get_by_label("Password (again)").fill(PASSWORD)
    member.get_by_role("button", name="Create account").click()
    member.get_by_role("button", name="Join Studio North").click()
    member.wait_for_url(f"{base}/teams/{team.pk}")
    member.get_by_text("You joined Studio North.").wait_for()

    # The owner caps the member at 2 credits a month.
    owner.reload()
    row = _member_row(owner, "mia@example.com")
    row.locator('input[name="monthly_credit_cap"]').fill("2")
    row.get_by_role("button", name="Save").click()
    owner.get_by_text("Saved mia@example.com.").wait_for()

    # The member works in the team: the header bar's balance is the wallet's.
    member.get_by_label("Working in").select_option(str(team.pk))
    member.get_by_role("button", name="Switch").click()
    member.get_by_text("Working in Studio North.").wait_for()
    assert member.locator("#credits-balance").inner_text() == "20"
    member.goto(f"{base}/")
    for n in range(2):
        _generate(member, f"a lighthouse, take {n + 1}")
        member.locator("article.job").nth(0).locator(".results img").first.wait_for()
        member.wait_for_function(f"() => document.querySelector('#credits-balance').textContent.trim() === '{19 - n}'")
    # The third is over the cap: nothing is charged and the page says why.
    _generate(member, "a lighthouse, take 3")
    error = member.locator("#form-error")
    error.get_by_text("Your monthly credit cap in this team is reached").wait_for()
    assert "2 credits a month" in error.inner_text()
    assert member.locator("#credits-balance").inner_text() == "18"
    screenshot(member, "team-cap-reached")

    # The owner raises the cap; the member goes on.
    owner.reload()
    row = _member_row(owner, "mia@example.com")
    row.locator('input[name="monthly_credit_cap"]').fill("5")
    row.get_by_role("button", name="Save").click()
    owner.get_by_text("Saved mia@example.com.").wait_for()
    _generate(member, "a lighthouse, take 4")
    member.wait_for_function("() => document.querySelector('#credits-balance').textContent.trim() === '17'")

    # The team page shows the wallet and each member's spending.
    owner.reload()
    assert owner.locator("#team-balance").inner_text() == "17"
    usage = owner.locator('#member-usage tr[data-member="mia@example.com"]')
    assert usage.locator("td").nth(1).inner_text() == "3"
    bar = owner.locator('#member-usage-chart .member-bar[data-member="mia@example.com"]')
    assert bar.locator(".member-bar-value").inner_text() == "3 of 5"
    assert bar.locator(".member-bar-fill").bounding_box()["width"] > 0
    screenshot(owner, "team", full_page=True)
    assert not owner.errors and not member.errors
