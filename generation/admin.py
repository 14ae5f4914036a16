"""Generations in the admin: their images, readable logs and parameters, and the operator's
actions (cancel, retry, refund), each calling the generation and credits services."""

import json

from django.contrib import admin, messages
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from generation.models import TERMINAL_STATUSES, Generation, GenerationInput, Status


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
    actions = ["cancel_generations", "retry_generations", "refund_generations"]
    fieldsets = [
        (None, {"fields": ["id", "user_link", "model", "provider", "status", "progress", "error", "error_type"]}),
        ("Images", {"fields": ["images"]}),
        ("Log", {"fields": ["readable_logs"]}),
        (
            "Request",
            {
                "fields": [
                    "prompt",
                    "final_prompt",
                    "negative_prompt",
                    "width",
                    "height",
                    "num_images",
                    "seed",
                    "output_format",
                    "readable_params",
                    "webhook_url",
                    "collection",
                ]
            },
        ),
        (
            "Job",
            {
                "fields": [
                    "cost",
                    "credits_link",
                    "provider_request_id",
                    "queue_position",
                    "attempts",
                    "readable_error_details",
                    "created_at",
                    "queued_at",
                    "started_at",
                    "finished_at",
                    "dispatched_at",
                    "next_poll_at",
                ]
            },
        ),
    ]
    inlines = [GenerationInputInline]

    def get_readonly_fields(self, request, obj=None):
        # Everything is read-only: a generation changes only through its services.
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        own = [
            path(
                "<uuid:generation_id>/asset/<uuid:asset_id>/<str:kind>",
                self.admin_site.admin_view(self.asset_file),
                name="generation_generation_asset",
            )
        ]
        return own + super().get_urls()

    def asset_file(self, request, generation_id, asset_id, kind):
        """An image of the generation for staff, streamed from storage (local or S3)."""
        if not self.has_view_permission(request):
            raise Http404
        generation = get_object_or_404(Generation, pk=generation_id)
        asset = get_object_or_404(generation.assets, pk=asset_id)
        field = asset.thumbnail if kind == "thumbnail" and asset.thumbnail else asset.file
        if not field:
            raise Http404
        return FileResponse(field.open("rb"))

    @admin.display(description="User")
    def user_link(self, obj):
        url = reverse("admin:accounts_user_change", args=[obj.user_id])
        return format_html('<a href="{}">{}</a>', url, obj.user)

    @admin.display(description="Credits")
    def credits_link(self, obj):
        url = reverse("admin:credits_ledgerentry_changelist") + f"?generation__id__exact={obj.pk}"
        return format_html('<a href="{}">Ledger entries of this generation</a>', url)

    @admin.display(description="Images")
    def images(self, obj):
        assets = list(obj.assets.order_by("created_at", "id"))
        if not assets:
            return "No images yet."

        def tile(asset):
            full = reverse("admin:generation_generation_asset", args=[obj.pk, asset.pk, "file"])
            thumb = reverse("admin:generation_generation_asset", args=[obj.pk, asset.pk, "thumbnail"])
            change = reverse("admin:gallery_asset_change", args=[asset.pk])
            return (full, thumb, asset.width, asset.height, asset.format, change)

        return format_html_join(
            "",
            '<figure class="generation-image" style="display:inline-block;margin:0 12px 12px 0">'
            '<a href="{}"><img src="{}" alt="" style="max-width:220px;max-height:220px;border-radius:4px"></a>'
            '<figcaption>{}×{} {} · <a href="{}">asset</a></figcaption></figure>',
            (tile(asset) for asset in assets),
        )

    @admin.display(description="Log")
    def readable_logs(self, obj):
        lines = obj.logs or []
        if not lines:
            return "No log lines."
        rows = format_html_join(
            "\n",
            "{}  {}",
            (
                (
                    str(line.get("at", ""))[:19].replace("T", " ") if isinstance(line, dict) else "",
                    line.get("message", "") if isinstance(line, dict) else str(line),
                )
                for line in lines
            ),
        )
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', rows)

    @admin.display(description="Parameters")
    def readable_params(self, obj):
        return format_html('<pre style="margin:0">{}</pre>', json.dumps(obj.params or {}, indent=2, sort_keys=True))

    @admin.display(description="Error details")
    def readable_error_details(self, obj):
        if not obj.error_details:
            return "—"
        return format_html('<pre style="margin:0">{}</pre>', json.dumps(obj.error_details, indent=2, sort_keys=True))

    @admin.action(description="Cancel the selected generations (and refund them)")
    def cancel_generations(self, request, queryset):
        from generation.services import generation_cancel
        from ops.errors import Conflict

        done = 0
        for generation in queryset.exclude(status__in=TERMINAL_STATUSES).select_related("user"):
            try:
                generation_cancel(generation=generation)
            except Conflict:
                continue
            done += 1
        self.message_user(request, f"Cancelled {done} generation(s); their credits were refunded.", messages.SUCCESS)

    @admin.action(description="Retry the selected failed generations (a new, charged generation each)")
    def retry_generations(self, request, queryset):
        from generation.serializers import GenerateInputSerializer
        from generation.services import generation_create
        from ops.errors import ApplicationError

        retried, refused = 0, []
        for generation in queryset.filter(status__in=[Status.FAILED, Status.CANCELLED]).select_related("user"):
            if generation.inputs.exists():
                refused.append(f"{generation.pk}: its input images are not sent again from the admin")
                continue
            data = {
                **{k: v for k, v in (generation.params or {}).items() if k != "revised_prompt"},
                "model": generation.model_id,
                "prompt": generation.prompt,
                "negative_prompt": generation.negative_prompt,
                "width": generation.width,
                "height": generation.height,
                "num_images": generation.num_images,
                "seed": generation.seed,
                "format": generation.output_format,
            }
            payload = GenerateInputSerializer(data=data)
            if not payload.is_valid():
                refused.append(f"{generation.pk}: {payload.errors}")
                continue
            try:
                with transaction.atomic():
                    generation_create(user=generation.user, data=payload.validated_data)
            except ApplicationError as exc:
                refused.append(f"{generation.pk}: {exc.message}")
                continue
            retried += 1
        self.message_user(request, f"Started {retried} new generation(s).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, f"Not retried: {reason}", messages.WARNING)

    @admin.action(description="Refund the selected generations' credits")
    def refund_generations(self, request, queryset):
        from credits.services import credits_refund_generation

        refunded = 0
        for generation in queryset.select_related("user"):
            entry = credits_refund_generation(generation=generation, reason=f"Refund by staff ({request.user.email})")
            refunded += entry is not None
        self.message_user(
            request,
            f"Refunded {refunded} generation(s); the others had been refunded already or cost nothing.",
            messages.SUCCESS,
        )
