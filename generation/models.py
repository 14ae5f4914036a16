import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_QUEUE = "in_queue", "In queue"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})


class Api(models.TextChoices):
    """The API a generation was asked for through: Atelier's own (the studio uses it too), the
    image APIs other clients speak (legacy), or one of the older documented shapes."""

    ATELIER = "atelier", "Atelier API"
    OPENAI = "openai", "OpenAI Images API"
    AUTOMATIC1111 = "automatic1111", "AUTOMATIC1111 API"
    SEED000 = "seed000", "Seed 000 API"
    SEED002 = "seed002", "Seed 002 API"
    SEED004 = "seed004", "Seed 004 API"


class Generation(models.Model):
    """One request to generate images. Its status only moves through generation.state."""

    Status = Status
    Api = Api

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: generation_user_newest (user, -created_at) serves lookups by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations", db_index=False
    )
    # Made in a team: the team's, paid from its wallet, seen by its members (null: personal).
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="generations")
    model = models.ForeignKey("catalog.AIModel", on_delete=models.PROTECT, related_name="generations")
    # Looked up with its status (generation_status_queue) or its request id, never alone.
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    prompt = models.TextField(blank=True)
    final_prompt = models.TextField(blank=True, help_text="The prompt sent to the provider.")
    negative_prompt = models.TextField(blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    num_images = models.PositiveSmallIntegerField(default=1)
    seed = models.BigIntegerField(null=True, blank=True)
    output_format = models.CharField(max_length=10, default="png")
    params = models.JSONField(default=dict, blank=True, help_text="Other model parameters, as sent.")
    collection = models.ForeignKey(
        "gallery.Collection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The owner's collection its images go into.",
    )
    remix_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="remixes",
        help_text="The generation whose settings this one started from (from_asset or remix_of).",
    )
    embed_prompt_metadata = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Whether its files carry the prompt and negative prompt (the request's embed_metadata).",
    )
    webhook_url = models.URLField(
        max_length=2048,
        blank=True,
        default="",
        # A database default too, so that statements that insert generations without naming it work.
        db_default="",
        help_text="Where image.generated is sent when it completes, signed with the owner's webhook secret.",
    )
    # Null (no filter asked for) is the terminal event only; a list always holds "completed".
    webhook_events_filter = models.JSONField(
        null=True,
        blank=True,
        help_text="Which events webhook_url receives (start, preview, logs, completed); null: completed only.",
    )
    api = models.CharField(
        max_length=20,
        choices=Api.choices,
        default=Api.ATELIER,
        # A database default too, so that statements that insert generations without naming it work.
        db_default=Api.ATELIER,
        help_text="The API it was asked for through.",
    )
    end_user = models.CharField(
        max_length=256,
        blank=True,
        default="",
        db_default="",
        help_text="The end user the calling app named (OpenAI's `user`), to trace abuse back to its source.",
    )
    previews = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Whether its watchers get in-progress pictures while it runs (the request's previews).",
    )
    cost = models.PositiveIntegerField(default=0, help_text="Credits reserved for this generation.")
    provider_request_id = models.CharField(max_length=200, blank=True, db_index=True)
    queue_position = models.PositiveIntegerField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    logs = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    error_type = models.CharField(max_length=50, blank=True)
    error_details = models.JSONField(
        null=True, blank=True, help_text="What the provider said about the error (e.g. which input it refused)."
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker has claimed it.")
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="When its last task message was sent.")
    next_poll_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="generation_user_newest"),
            models.Index(fields=["status", "provider", "queued_at"], name="generation_status_queue"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="generation_progress_lte_100"),
            models.CheckConstraint(condition=Q(num_images__gte=1), name="generation_num_images_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} {self.status} {self.id}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class GenerationEvent(models.Model):
    """What happened to a generation, in order: the feed of its server-sent events.

    The primary key is the event id clients send back in ``Last-Event-ID`` to resume.
    """

    class Type(models.TextChoices):
        STATUS = "status", "Status"
        PROGRESS = "progress", "Progress"
        LOG = "log", "Log"

    # No index of its own: generation_event_feed (generation, id) serves lookups by generation.
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=20, choices=Type.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["generation", "id"], name="generation_event_feed")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} of {self.generation_id}"


class DailyGenerationCount(models.Model):
    """How many generations a user started on a (UTC) day: the daily quota's counter.

    Written with each new generation, so checking the quota reads one row instead of counting
    the day's generations.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="daily_generation_count_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.count}"


class IdempotencyRecord(models.Model):
    """The generation a request sent with an ``Idempotency-Key`` created, found again for 24 hours.

    Saved before the generation exists (``generation`` empty) so that a concurrent duplicate
    waits for the first instead of creating a second one.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="Hash of the request's parameters.")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_per_user_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


def generation_input_upload_to(instance: "GenerationInput", filename: str) -> str:
    return f"inputs/{instance.generation.user_id}/{instance.generation_id}/{instance.role}.png"


class GenerationInput(models.Model):
    """An input image of a generation (its reference image or its mask), normalised to PNG.

    Private to the generation: never listed in the gallery nor served by a URL. Kept so that a
    retry, and "use these settings again", send the provider exactly the same pixels.
    """

    class Role(models.TextChoices):
        IMAGE = "image", "Image"
        MASK = "mask", "Mask"

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="inputs")
    role = models.CharField(max_length=10, choices=Role.choices)
    file = models.FileField(upload_to=generation_input_upload_to, max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=50, default="image/png")
    file_size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    source_url = models.URLField(max_length=2048, blank=True, help_text="Where it was fetched from, if by URL.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["generation", "role"]
        constraints = [models.UniqueConstraint(fields=["generation", "role"], name="generation_input_one_per_role")]

    def __str__(self) -> str:
        return f"{self.role} of {self.generation_id}"
