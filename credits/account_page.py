"""The credits' part of the account page (accounts/account_page.py): plan and balance, the
newest ledger entries, the limits and this month's usage by day."""

from datetime import date

from credits.selectors import credits_summary, ledger_rows, limits_for_user, usage_stats
from credits.usage_chart import usage_chart

LEDGER_ROWS = 15


def account_page_credits_context(*, user) -> dict:
    usage = usage_stats(user=user, period="month")
    return {
        "summary": credits_summary(user=user),
        "ledger": ledger_rows(user=user, limit=LEDGER_ROWS),
        "limits": limits_for_user(user=user),
        "usage": usage,
        "usage_month": date.fromisoformat(usage["start"]).strftime("%B %Y"),
        "chart": usage_chart(daily=usage["daily_usage"]),
    }
