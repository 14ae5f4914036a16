"""Generations in the admin: their images, readable logs and parameters, and the operator's
actions (cancel, retry, refund; as buttons on a generation's page and as bulk actions), each
calling the generation services, which name the staff user on the ledger entries they write."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.errors import ApplicationError
from generation.models import TERMINAL_STATUSES, Generation, GenerationInput
from generation.serializers import GenerateInputSerializer
from generation.services import generation_cancel
from generation.services.lifecycle import (
    generation_refund,
    generation_refund_refusal,
    generation_retry,
    generation_retry_refusal,
)
from generation.services.remix import generation_settings

# The operator's buttons on a generation's page: each asks for confirmation on a page of its
# own (a POST with the CSRF token), then calls the service and says what happened.
OPERATIONS = {
    "cancel": ("Cancel", "Cancel this generation and refund its credits to its owner."),
    "retry": ("Retry", "Start a new generation with the same request, charged to its owner."),
    "refund": ("Refund", "Give its owner back the credits this generation was charged."),
}


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
    list_filter = ["status", "provider", "api", "created_at"]
    search_fields = ["id", "prompt", "user__email", "provider_request_id", "end_user"]
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
                    "api",
                    "end_user",
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
            ),
            path(
                "<uuid:generation_id>/operate/<str:operation>/",
                self.admin_site.admin_view(self.operate),
                name="generation_generation_operate",
            ),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        tools = [
            (label, reverse("admin:generation_generation_operate", args=[object_id, name]))
            for name, (label, _) in OPERATIONS.items()
        ]
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "operations": tools})

    def operate(self, request, generation_id, operation):
        """Cancel, Retry or Refund one generation: GET asks for confirmation (and says why it
        cannot be done, when it cannot), POST does it and goes back with a message."""
        if operation not in OPERATIONS:
            raise Http404
        generation = get_object_or_404(Generation.objects.select_related("user", "model"), pk=generation_id)
        if not self.has_change_permission(request, generation):
            raise PermissionDenied
        back = reverse("admin:generation_generation_change", args=[generation.pk])
        if request.method == "POST":
            done = getattr(self, f"_{operation}")(request, generation)
            return HttpResponseRedirect(done or back)
        label, description = OPERATIONS[operation]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": generation,
            "title": f"{label} generation {generation.pk}?",
            "operation": operation,
            "label": label,
            "description": description,
            "refusal": self._refusal(operation, generation),
            "back": back,
        }
        return TemplateResponse(request, "admin/generation/generation/operate_confirm.html", context)

    def _refusal(self, operation: str, generation: Generation) -> str | None:

        if operation == "cancel":
            return f"it is already {generation.status}" if generation.status in TERMINAL_STATUSES else None
        if operation == "retry":
            return generation_retry_refusal(generation=generation)
        return generation_refund_refusal(generation=generation)

    def _cancel(self, request, generation: Generation) -> None:

        try:
            generation_cancel(generation=generation, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, f"Not cancelled: {exc.message}.", messages.ERROR)
            return
        self.message_user(
            request,
            f"Cancelled generation {generation.pk}; its {generation.cost} credit(s) went back to {generation.user}.",
            messages.SUCCESS,
        )

    def _retry(self, request, generation: Generation) -> str | None:
        """Starts the retry; the new generation's page, or None (and says why) when refused."""
        retried, refusal = _retry_one(generation)
        if retried is None:
            self.message_user(request, f"Not retried: {refusal}.", messages.ERROR)
            return None
        self.message_user(
            request,
            f"Started generation {retried.pk}, a retry of {generation.pk}; "
            f"{retried.cost} credit(s) were charged to {generation.user}.",
            messages.SUCCESS,
        )
        return reverse("admin:generation_generation_change", args=[retried.pk])

    def _refund(self, request, generation: Generation) -> None:

        try:
            entry = generation_refund(generation=generation, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, f"Not refunded: {exc.message}.", messages.ERROR)
            return
        self.message_user(
            request,
            f"Refunded {entry.amount} credit(s) to {generation.user}; their balance is now {entry.balance_after}.",
            messages.SUCCESS,
        )

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

        done, refused = 0, []
        for generation in queryset.select_related("user"):
            try:
                generation_cancel(generation=generation, actor=request.user)
            except ApplicationError as exc:
                refused.append(f"{generation.pk}: {exc.message}")
                continue
            done += 1
        self.message_user(
            request, f"Cancelled {done} generation(s); their credits were refunded.", _level(done, refused)
        )
        for reason in refused:
            self.message_user(request, f"Not cancelled: {reason}.", messages.WARNING)

    @admin.action(description="Retry the selected failed generations (a new, charged generation each)")
    def retry_generations(self, request, queryset):
        retried, refused = 0, []
        for generation in queryset.select_related("user"):
            new, refusal = _retry_one(generation)
            if new is None:
                refused.append(refusal)
                continue
            retried += 1
        self.message_user(request, f"Started {retried} new generation(s).", _level(retried, refused))
        for reason in refused:
            self.message_user(request, f"Not retried: {reason}.", messages.WARNING)

    @admin.action(description="Refund the selected generations' credits")
    def refund_generations(self, request, queryset):

        refunded, refused = 0, []
        for generation in queryset.select_related("user"):
            try:
                generation_refund(generation=generation, actor=request.user)
            except ApplicationError as exc:
                refused.append(f"{generation.pk}: {exc.message}")
                continue
            refunded += 1
        self.message_user(request, f"Refunded {refunded} generation(s).", _level(refunded, refused))
        for reason in refused:
            self.message_user(request, f"Not refunded: {reason}.", messages.WARNING)


def _level(done: int, refused: list) -> int:
    return messages.SUCCESS if done or not refused else messages.WARNING


def _retry_one(generation: Generation) -> tuple[Generation | None, str | None]:
    """(the new generation, None), or (None, why it was not retried, naming the generation)."""

    refusal = generation_retry_refusal(generation=generation)
    if refusal:
        return None, f"{generation.pk}: {refusal}"
    # Every setting as a remix takes it: the style applied once, the stored input image and mask.
    settings_ = generation_settings(generation=generation)
    data = {**settings_.pop("params"), **settings_}
    payload = GenerateInputSerializer(data=data)
    if not payload.is_valid():
        return None, f"{generation.pk}: its request is no longer valid ({payload.errors})"
    try:
        with transaction.atomic():
            created = generation_retry(generation=generation, data=payload.validated_data)
    except ApplicationError as exc:
        return None, f"{generation.pk}: {exc.message}" + (f" ({exc.details})" if isinstance(exc.details, str) else "")
    return created.generation, None
