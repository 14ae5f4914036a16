from django.db.models import Prefetch, QuerySet

from gallery.models import Asset
from generation.models import Generation


def _with_assets(queryset: QuerySet[Generation]) -> QuerySet[Generation]:
    return queryset.select_related("model").prefetch_related(
        Prefetch("assets", queryset=Asset.objects.order_by("created_at", "id"))
    )


def generation_list(*, user, status: str | None = None) -> QuerySet[Generation]:
    queryset = Generation.objects.filter(user=user)
    if status:
        queryset = queryset.filter(status=status)
    return _with_assets(queryset).order_by("-created_at", "-id")


def generation_get(*, user, generation_id) -> Generation | None:
    return _with_assets(Generation.objects.filter(user=user, pk=generation_id)).first()
