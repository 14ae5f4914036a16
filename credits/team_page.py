"""The wallet's part of the team page (teams/team_page.py): balance and plan, and each member's
spending this month with their caps, drawn as one bar per member."""

from credits.team_selectors import team_member_usage, team_wallet_summary


def team_page_wallet_context(*, membership) -> dict:
    team = membership.team
    usage = team_member_usage(team=team)
    rows = []
    for member in team.memberships.select_related("user").order_by("joined_at", "id"):
        spent = usage.get(member.user_id, {})
        rows.append(
            {
                "email": member.user.email,
                "name": member.user.full_name or member.user.email,
                "credits": spent.get("credits_this_month", 0),
                "generations": spent.get("generations_today", 0),
                "monthly_credit_cap": member.monthly_credit_cap,
                "daily_generation_cap": member.daily_generation_cap,
            }
        )
    top = max([row["credits"] for row in rows] + [row["monthly_credit_cap"] or 0 for row in rows] + [1])
    for row in rows:
        row["percent"] = round(100 * row["credits"] / top, 1)
        cap = row["monthly_credit_cap"]
        row["cap_percent"] = round(100 * cap / top, 1) if cap is not None else None
    return {"wallet": team_wallet_summary(team=team), "member_usage": rows, "wallet_template": "teams/_wallet.html"}
