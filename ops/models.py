"""What the operator side records about the running system: provider calls and queues.

Both are kept per minute, one row per (provider or queue, minute), so that a month of history
is a few ten thousand rows however many generations ran.
"""

from django.db import models

# Upper bounds (milliseconds) of the latency histogram's buckets, as Prometheus keeps them;
# the last bucket takes everything slower. The p50 is read from these counts.
LATENCY_BOUNDS_MS = (100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
LATENCY_FIELDS = tuple(f"le_{bound}ms" for bound in LATENCY_BOUNDS_MS) + ("le_inf",)


class ProviderCallBucket(models.Model):
    """The calls made to one provider in one minute: how many, how many failed, how long."""

    provider = models.CharField(max_length=20)
    minute = models.DateTimeField(help_text="The start of the minute (UTC).")
    calls = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    total_ms = models.PositiveBigIntegerField(default=0)
    max_ms = models.PositiveIntegerField(default=0)
    le_100ms = models.PositiveIntegerField(default=0)
    le_250ms = models.PositiveIntegerField(default=0)
    le_500ms = models.PositiveIntegerField(default=0)
    le_1000ms = models.PositiveIntegerField(default=0)
    le_2500ms = models.PositiveIntegerField(default=0)
    le_5000ms = models.PositiveIntegerField(default=0)
    le_10000ms = models.PositiveIntegerField(default=0)
    le_30000ms = models.PositiveIntegerField(default=0)
    le_60000ms = models.PositiveIntegerField(default=0)
    le_inf = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-minute", "provider"]
        constraints = [models.UniqueConstraint(fields=["provider", "minute"], name="provider_call_bucket_minute")]
        indexes = [models.Index(fields=["minute"], name="provider_call_bucket_time")]

    def __str__(self) -> str:
        return f"{self.provider} {self.minute:%Y-%m-%d %H:%M}: {self.calls} calls"


class QueueSample(models.Model):
    """A queue's depth and the age of its oldest waiting job, sampled once a minute."""

    queue = models.CharField(max_length=50)
    minute = models.DateTimeField()
    depth = models.PositiveIntegerField(default=0)
    oldest_age_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-minute", "queue"]
        constraints = [models.UniqueConstraint(fields=["queue", "minute"], name="queue_sample_minute")]
        indexes = [models.Index(fields=["minute"], name="queue_sample_time")]

    def __str__(self) -> str:
        return f"{self.queue} {self.minute:%Y-%m-%d %H:%M}: {self.depth}"


class UsageUserDay(models.Model):
    """One user's usage on one settled (UTC) day: what /admin/api/metrics sums instead of
    scanning every generation of the period. Days still open are computed live."""

    day = models.DateField()
    user_id = models.BigIntegerField()
    generations = models.PositiveIntegerField(default=0)
    images = models.PositiveIntegerField(default=0)
    credits = models.IntegerField(default=0, help_text="Charged less refunded.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "user_id"], name="usage_user_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} user {self.user_id}: {self.generations}"


class UsageModelDay(models.Model):
    """Images of one settled day by model and style."""

    day = models.DateField()
    model = models.CharField(max_length=200)
    style = models.CharField(max_length=100)
    images = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "model", "style"], name="usage_model_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.model} {self.style}: {self.images}"


class UsageDay(models.Model):
    """A settled day whose rollups (UsageUserDay, UsageModelDay) are stored."""

    day = models.DateField(unique=True)
    computed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.day)
