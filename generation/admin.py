from django.contrib import admin

from generation.models import Generation, GenerationInput


class GenerationInputInline(admin.TabularInline):
    """The private input image and mask a generation was made from."""

    model = GenerationInput
    extra = 0
    can_delete = False
    fields = ["role", "file", "width", "height", "file_size", "sha256", "source_url", "created_at"]
    readonly_fields = fields


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "model", "status", "num_images", "cost", "progress", "created_at", "finished_at"]
    list_filter = ["status", "provider", "created_at"]
    search_fields = ["id", "prompt", "user__email", "provider_request_id"]
    list_select_related = ["user", "model"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Generation._meta.fields]
    inlines = [GenerationInputInline]

    def has_add_permission(self, request) -> bool:
        return False
