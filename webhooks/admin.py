"""Webhook endpoints and deliveries in the admin: add an endpoint (its secret generated unless
given), send a test event, rotate the secret, enable or disable, redeliver."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from core.errors import ApplicationError
from webhooks import services
from webhooks.models import EVENT_TYPES, WebhookAttempt, WebhookDelivery, WebhookEndpoint

SUBSCRIBABLE = [(name, f"{name} — {label}") for name, label in EVENT_TYPES if name != "webhook.test"]


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2048, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    secret = forms.CharField(
        required=False, help_text="whsec_… — leave empty to have one generated. Rotate it with the action."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "secret", "is_active"]

    def clean(self):
        data = super().clean()
        # The services' own rules (URL guard, secret format): one set of checks for admin and API.
        try:
            if "url" in data:
                services.endpoint_url_validate(url=data["url"])
            if data.get("secret"):
                services.endpoint_secret_or_new(secret=data["secret"])
        except ApplicationError as exc:
            for field, errors in (exc.details or {}).items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
        return data

    def save(self, commit=True):
        endpoint = super().save(commit=False)
        endpoint.secret = (
            self.cleaned_data.get("secret") or endpoint.secret or services.endpoint_secret_or_new(secret=None)
        )
        endpoint.events = sorted(self.cleaned_data.get("events") or [])
        if commit:
            endpoint.save()
        return endpoint


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fk_name = "endpoint"
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["link", "event", "status", "attempts", "last_status_code", "last_error", "created_at"]
    readonly_fields = fields
    ordering = ["-created_at"]
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("message")

    @admin.display(description="Delivery")
    def link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:webhooks_webhookdelivery_change", args=[obj.pk]), obj.pk
        )

    @admin.display(description="Event")
    def event(self, obj):
        return obj.message.event


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "event_list", "is_active", "consecutive_failures", "disabled_reason", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["disabled_reason", "disabled_at", "consecutive_failures", "previous_secret_expires_at"]
    actions = ["send_test_event", "rotate_secret", "enable", "disable"]
    inlines = [DeliveryInline]

    @admin.display(description="Events")
    def event_list(self, obj):
        return ", ".join(obj.events) or "all"

    def get_urls(self):
        own = [
            path(
                "<uuid:endpoint_id>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="webhooks_webhookendpoint_send_test",
            )
        ]
        return own + super().get_urls()

    def send_test_view(self, request, endpoint_id):
        """The change page's "Send a test event" button (a POST form with the CSRF token)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        delivery = services.endpoint_send_test(endpoint=endpoint)
        self.message_user(
            request,
            f"Test event sent to {endpoint.url} (delivery {delivery.pk}); it is listed below.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_send_test(endpoint=endpoint)
        self.message_user(request, f"Test event sent to {queryset.count()} endpoint(s); see their deliveries.")

    @admin.action(description="Rotate the secret (the old one signs too for 24 hours)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_rotate_secret(endpoint=endpoint)
        self.message_user(request, f"Rotated the secret of {queryset.count()} endpoint(s).", messages.SUCCESS)

    @admin.action(description="Enable")
    def enable(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_update(endpoint=endpoint, is_active=True)

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_update(endpoint=endpoint, is_active=False)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["number", "status_code", "latency_ms", "error", "response_excerpt", "created_at"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "url", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "message__event", "created_at"]
    search_fields = ["url", "message__id"]
    list_select_related = ["message"]
    readonly_fields = [
        "message_link",
        "endpoint",
        "user",
        "url",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "finished_at",
        "body",
    ]
    exclude = ["message"]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Event")
    def event(self, obj):
        return obj.message.event

    @admin.display(description="Message")
    def message_link(self, obj):
        return format_html("{} ({})", obj.message_id, obj.message.event)

    @admin.display(description="Body as sent")
    def body(self, obj):
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', obj.message.body)

    @admin.action(description="Redeliver (the same message, as a new delivery)")
    def redeliver(self, request, queryset):
        for delivery in queryset.select_related("message", "endpoint", "user"):
            services.delivery_redeliver(delivery=delivery)
        self.message_user(request, f"Sent {queryset.count()} message(s) again.", messages.SUCCESS)
