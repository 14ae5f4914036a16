from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from accounts.admin import UserListColumn, user_list_column_add
from gallery.models import Asset, Collection


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "type", "model", "style", "width", "height", "format", "file_size", "created_at"]
    list_filter = ["type", "format", "is_public", "is_favorited", "is_nsfw", "created_at"]
    search_fields = ["prompt", "owner__email", "model", "id", "short_key"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner", "collection"]
    readonly_fields = [
        "generation",
        "file",
        "thumbnail",
        "width",
        "height",
        "duration",
        "format",
        "file_size",
        "short_key",
        "created_at",
    ]
    date_hierarchy = "created_at"
    # Counting a million rows on every page load would be the slowest part of the page.
    show_full_result_count = False


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__email"]
    raw_id_fields = ["owner"]


class UserAssetColumns:
    """The user list's images column (accounts/admin.py)."""

    @staticmethod
    @admin.display(description="Images", ordering="image_total")
    def image_count(user) -> int:
        return user.image_total

    @staticmethod
    def image_total_annotate(queryset):
        # A subquery rather than a join: aggregates over joins of several apps' rows would multiply each other.
        images = Asset.objects.filter(owner=OuterRef("pk")).values("owner").annotate(n=Count("pk")).values("n")
        return queryset.annotate(image_total=Coalesce(Subquery(images), 0))


user_list_column_add(
    name="image_count",
    column=UserListColumn(value=UserAssetColumns.image_count, annotate=UserAssetColumns.image_total_annotate),
)
