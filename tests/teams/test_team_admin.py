"""The Django admin lists teams with their wallets and ledger; staff grant credits there."""

from credits.models import CreditAccount
from tests.helpers import generate, signed_in
from tests.teams.conftest import join
from tests.teams.test_team_wallet import as_team, grant, wallet


def test_the_team_list_shows_each_wallet_linking_to_its_ledger(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 12)
    assert generate(as_team(bob, team)).status_code == 201
    admin = signed_in(staff.user)
    page = admin.get("/admin/teams/team/").content.decode()
    assert "Studio North" in page and "11 credits" in page
    ledger = admin.get(f"/admin/credits/ledgerentry/?team__id__exact={team}")
    assert ledger.status_code == 200
    text = ledger.content.decode()
    assert "bob@example.com" in text and "Team budget" in text


def test_staff_add_credits_to_a_team_wallet_from_the_credit_accounts(alice, staff, team):
    account = CreditAccount.objects.get(team_id=team)
    admin = signed_in(staff.user)
    response = admin.post(
        "/admin/credits/creditaccount/",
        {"action": "add_credits", "_selected_action": [str(account.pk)], "amount": 30, "reason": "Quarterly budget"},
    )
    assert response.status_code == 302
    assert wallet(alice, team)["credits"]["remaining"] == 30
    assert "Studio North" in admin.get("/admin/credits/creditaccount/?team__isempty=0").content.decode()
