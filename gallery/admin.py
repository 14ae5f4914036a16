from django.contrib import admin

from gallery.models import Asset


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "type", "model", "width", "height", "format", "file_size", "created_at"]
    list_filter = ["type", "format", "is_public", "is_favorited", "is_nsfw", "created_at"]
    search_fields = ["prompt", "owner__email", "model", "id"]
    list_select_related = ["owner"]
    readonly_fields = ["generation", "file", "width", "height", "format", "file_size", "created_at"]
    date_hierarchy = "created_at"
