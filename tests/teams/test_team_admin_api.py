"""The admin API filters by team: its members, and its work's figures."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from tests.helpers import assert_envelope, generate
from tests.teams.conftest import join
from tests.teams.test_team_wallet import as_team, grant, personal


def test_users_filter_by_team(alice, bob, carol, staff, team):
    join(alice, bob)
    emails = sorted(row["email"] for row in staff.get(f"/admin/api/users?team={team}").json()["users"])
    assert emails == ["alice@example.com", "bob@example.com"]
    assert len(staff.get("/admin/api/users").json()["users"]) == 4
    assert_envelope(staff.get("/admin/api/users?team=nope"), 400)


def test_metrics_filter_by_team_and_settled_days_with_team_spending_roll_up(alice, bob, staff, team):
    join(alice, bob)
    grant(staff, team, 10)
    for _ in range(2):
        assert generate(as_team(bob, team)).status_code == 201
    assert generate(personal(bob)).status_code == 201
    team_totals = staff.get(f"/admin/api/metrics?period=week&team={team}").json()["totals"]
    assert team_totals["generations"] == 2 and team_totals["credits_consumed"] == 2
    everyone = staff.get("/admin/api/metrics?period=week").json()["totals"]
    assert everyone["generations"] == 3 and everyone["credits_consumed"] == 3
    # Days later the day is settled and stored as rollups: the team's spending counts for Bob.
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        later = staff.get("/admin/api/metrics?period=week").json()["totals"]
        assert later["generations"] == 3 and later["credits_consumed"] == 3
        assert staff.get(f"/admin/api/metrics?period=week&team={team}").json()["totals"]["credits_consumed"] == 2
