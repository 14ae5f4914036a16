"""Each member's spending from a team's wallet this month (``TeamMemberSpend``), moved in the
transaction of every team debit and refund.

``team_member_spend_charge`` is the cap check: one UPDATE joined to the membership that adds
the credits only while the member is in the live team and under their monthly cap. Concurrent
debits by one member queue on that row, so the cap is exact; the UPDATE also answers the
member's daily generation cap, so a debit within its caps reads nothing else.
"""

import uuid

from django.db import connection
from django.db.models import F

from credits.models import TeamMemberSpend
from teams.models import Membership, Team

NOT_CHARGED = object()


def _charge_sql() -> str:
    quote = connection.ops.quote_name
    spend, membership, team = TeamMemberSpend._meta.db_table, Membership._meta.db_table, Team._meta.db_table
    return (
        f"UPDATE {quote(spend)} SET credits = {quote(spend)}.credits + %s "  # noqa: S608 - table names only
        f"FROM {quote(membership)} m, {quote(team)} t "
        f"WHERE {quote(spend)}.team_id = %s AND {quote(spend)}.user_id = %s AND {quote(spend)}.period = %s "
        f"AND m.team_id = {quote(spend)}.team_id AND m.user_id = {quote(spend)}.user_id "
        "AND t.id = m.team_id AND t.deleted_at IS NULL "
        f"AND (m.monthly_credit_cap IS NULL OR {quote(spend)}.credits + %s <= m.monthly_credit_cap) "
        # SQLite's RETURNING names only the updated table: the cap comes by a subquery.
        f"RETURNING (SELECT d.daily_generation_cap FROM {quote(membership)} d "
        f"WHERE d.team_id = {quote(spend)}.team_id AND d.user_id = {quote(spend)}.user_id)"
    )


def team_member_spend_charge(*, team_id, member_id: int, period, amount: int):
    """Adds ``amount`` to the member's month when they are in the team and it stays within their
    cap: their daily generation cap (or None) when it did, ``NOT_CHARGED`` when it did not."""
    team_id = team_id if isinstance(team_id, uuid.UUID) else uuid.UUID(str(team_id))
    # Raw SQL gets the value as the database stores a UUIDField: 32 hex digits on SQLite.
    team_key = team_id.hex if connection.vendor == "sqlite" else team_id
    params = [amount, team_key, member_id, period, amount]
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(_charge_sql(), params)
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        # The month's first debit makes the row (a concurrent maker of it is ignored), then
        # charges it as above; with the row there, no row changed means a refusal.
        if TeamMemberSpend.objects.filter(team_id=team_id, user_id=member_id, period=period).exists():
            return NOT_CHARGED
        TeamMemberSpend.objects.bulk_create(
            [TeamMemberSpend(team_id=team_id, user_id=member_id, period=period)], ignore_conflicts=True
        )
    return NOT_CHARGED


def team_member_spend_refund(*, team_id, member_id: int, period, amount: int) -> None:
    """Takes a refund of ``amount`` off the member's month (the month the refund happens in)."""
    TeamMemberSpend.objects.bulk_create(
        [TeamMemberSpend(team_id=team_id, user_id=member_id, period=period)], ignore_conflicts=True
    )
    TeamMemberSpend.objects.filter(team_id=team_id, user_id=member_id, period=period).update(
        credits=F("credits") - amount
    )
