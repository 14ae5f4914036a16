from django.contrib import admin

from catalog.models import AIModel


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "provider", "kind", "credit_cost", "max_images", "rate_limit", "is_active"]
    list_filter = ["provider", "kind", "is_active"]
    search_fields = ["id", "name", "description", "provider_model"]
    list_editable = ["credit_cost", "is_active"]
    ordering = ["sort_order", "id"]
