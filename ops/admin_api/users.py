"""``GET /admin/api/users``: users filtered by role, status and a search, with their figures."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum

ROLES = ("user", "admin")
STATUSES = ("active", "inactive")


def user_role(user) -> str:
    return "admin" if user.is_staff else "user"


def admin_user_list(*, role: str | None = None, status: str | None = None, search: str = "") -> QuerySet:
    users = get_user_model().objects.select_related("credit_account__plan").order_by("-date_joined", "-id")
    if role:
        users = users.filter(is_staff=role == "admin")
    if status:
        users = users.filter(is_active=status == "active")
    if search:
        users = users.filter(
            Q(email__icontains=search) | Q(username__icontains=search) | Q(full_name__icontains=search)
        )
    return users


def admin_user_figures(*, user_ids: list[int]) -> dict[int, dict]:
    """Images and credits used of one page of users: two grouped queries, whatever the page size."""
    from credits.models import LedgerEntry
    from gallery.models import Asset

    images = dict(
        Asset.objects.filter(owner_id__in=user_ids)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    # Credits used: what generations were charged, less what was refunded to them.
    used = dict(
        LedgerEntry.objects.filter(user_id__in=user_ids, kind__in=[LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND])
        .values("user_id")
        .annotate(net=Sum("amount"))
        .values_list("user_id", "net")
    )
    return {pk: {"total_images": images.get(pk, 0), "total_credits_used": -(used.get(pk) or 0)} for pk in user_ids}


def admin_user_row(user, figures: dict) -> dict:
    account = getattr(user, "credit_account", None)
    return {
        "id": user.pk,
        "uuid": str(user.uuid),
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "role": user_role(user),
        "status": "active" if user.is_active else "inactive",
        "created_at": user.date_joined,
        "last_login": user.last_login,
        "subscription": {
            "plan": account.plan.name if account and account.plan_id else None,
            "credits_remaining": account.balance if account else 0,
        },
        "total_images": figures["total_images"],
        "total_credits_used": figures["total_credits_used"],
    }
