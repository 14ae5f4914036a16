import uuid

from django.conf import settings
from django.db import models

EVENT_TYPES = (
    ("image.generated", "An image generation completed"),
    ("image.failed", "An image generation failed"),
    ("image.cancelled", "An image generation was cancelled"),
    ("image.started", "An image generation started on its provider (only when named)"),
    ("image.preview", "An in-progress picture of a running generation (only when named)"),
    ("image.log", "Log lines of a running generation (only when named)"),
    ("training.completed", "A LoRA training finished"),
    ("user.registered", "A new user registered"),
    ("credits.low", "A user's credits fell below the threshold"),
    ("system.error", "A system error occurred"),
    ("webhook.test", "A test event sent from the admin"),
)
EVENT_NAMES = tuple(name for name, _ in EVENT_TYPES)
# A generation's in-progress events: many per generation, so an endpoint receives them only when
# it names them (an endpoint with no list, "all", does not).
PROGRESS_EVENTS = frozenset({"image.started", "image.preview", "image.log"})


class WebhookEndpoint(models.Model):
    """An operator's URL that receives the events it subscribes to, signed with its secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event types it receives; empty means all.")
    secret = models.CharField(max_length=100, help_text="whsec_… (base64 key); signs every message.")
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Until then messages carry a signature with the previous secret too."
    )
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url

    def receives(self, event: str) -> bool:
        if event in self.events or event == "webhook.test":
            return True
        return not self.events and event not in PROGRESS_EVENTS


class UserWebhookSecret(models.Model):
    """The secret that signs the webhooks a user asks for per request (``webhook_url``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_secret")
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"webhook secret of {self.user_id}"


class WebhookMessage(models.Model):
    """One event as sent: its id (``webhook-id``, the same on every retry) and its exact body.

    A generation's in-progress events (``subject``: the generation) are paced: ``send_at`` is
    when the message goes out, and one that has not gone yet takes in the events that follow
    (webhooks/services/pacing.py)."""

    id = models.CharField(primary_key=True, max_length=40, editable=False)
    event = models.CharField(max_length=50, db_index=True)
    body = models.TextField(help_text="The JSON body exactly as signed and sent.")
    subject = models.CharField(
        max_length=64, blank=True, default="", help_text="The generation a paced in-progress event is about."
    )
    send_at = models.DateTimeField(null=True, blank=True, help_text="When a paced message goes out.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["subject", "event", "-send_at"],
                name="webhook_message_paced",
                condition=~models.Q(subject=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.id}"


class WebhookDelivery(models.Model):
    """One message on its way to one URL: an endpoint's, or a generation's ``webhook_url``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="For a per-request webhook_url: whose secret signs it.",
    )
    url = models.URLField(max_length=2048)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        help_text="Written by the worker that claimed the pending delivery; its outcome is written only "
        "while the row still carries it.",
    )
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.url} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
