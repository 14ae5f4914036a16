from django.contrib import admin

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
