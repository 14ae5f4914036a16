import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    PREPROCESSING = "preprocessing", "Preprocessing"
    TRAINING = "training", "Training"
    UPLOADING = "uploading", "Uploading"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})
RUNNING_STATUSES = frozenset({Status.PREPROCESSING, Status.TRAINING, Status.UPLOADING})


class TrainingDataset(models.Model):
    """Checked training images (and captions), stored as one normalised zip."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_datasets")
    archive = models.FileField(upload_to="training/datasets/", max_length=300)
    image_count = models.PositiveIntegerField()
    total_size = models.PositiveBigIntegerField(help_text="Bytes of the images as uploaded.")
    manifest = models.JSONField(default=list, help_text="Each image: name, width, height, sha256, caption.")
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.image_count} images ({self.pk})"


class TrainingJob(models.Model):
    """One LoRA training run. Its status only moves through training.state."""

    Status = Status

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_jobs")
    # Started in a team: the team's, paid from its wallet, its LoRA the team's (null: personal).
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dataset = models.ForeignKey(TrainingDataset, on_delete=models.PROTECT, related_name="jobs")
    provider = models.CharField(max_length=20)
    base_model = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    trigger_word = models.CharField(max_length=50)
    steps = models.PositiveIntegerField()
    rank = models.PositiveSmallIntegerField(default=16)
    learning_rate = models.FloatField()
    is_style = models.BooleanField(default=False)
    create_masks = models.BooleanField(default=True)
    seed = models.BigIntegerField(default=0)
    cost = models.PositiveIntegerField(help_text="Credits held when it started.")
    refunded = models.PositiveIntegerField(default=0)
    refunded_at = models.DateTimeField(null=True, blank=True, help_text="Set once, by the one refund it may get.")
    progress = models.PositiveSmallIntegerField(default=0)
    current_step = models.PositiveIntegerField(default=0)
    loss = models.FloatField(null=True, blank=True)
    loss_history = models.JSONField(default=list, blank=True, help_text="[[step, loss], …]")
    logs = models.JSONField(default=list, blank=True)
    samples = models.JSONField(default=list, blank=True, help_text="[{step, seed, prompt, path}, …]")
    estimated_seconds = models.PositiveIntegerField(default=0, help_text="Quoted duration.")
    estimated_remaining_seconds = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_type = models.CharField(max_length=50, blank=True)
    provider_request_id = models.CharField(max_length=200, blank=True, db_index=True)
    checkpoint = models.FileField(upload_to="training/checkpoints/", max_length=300, blank=True)
    checkpoint_step = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker has claimed it.")
    lease = models.CharField(
        max_length=40, blank=True, help_text="The claim of the worker running it; its writes must match."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="training_user_newest"),
            models.Index(fields=["status", "heartbeat_at"], name="training_status_heartbeat"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="training_progress_lte_100"),
            models.CheckConstraint(condition=Q(refunded__lte=models.F("cost")), name="training_refund_lte_cost"),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_word} on {self.provider} ({self.status})"

    @property
    def total_steps(self) -> int:
        return self.steps


class TrainingEvent(models.Model):
    """The live feed of a job (status, progress, log lines, samples), read by its event stream."""

    class Type(models.TextChoices):
        STATUS = "status", "Status"
        PROGRESS = "progress", "Progress"
        LOG = "log", "Log"
        SAMPLE = "sample", "Sample"

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} of {self.job_id}"


class LoRA(models.Model):
    """A trained LoRA its owner can name, use in generations and delete."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loras")
    # A team's LoRA: every member uses it (null: its owner's alone).
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    job = models.OneToOneField(TrainingJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="lora")
    name = models.CharField(max_length=100)
    trigger_word = models.CharField(max_length=50)
    provider = models.CharField(max_length=20)
    base_model = models.CharField(max_length=200, blank=True)
    weights = models.FileField(upload_to="training/loras/", max_length=300)
    config = models.FileField(upload_to="training/loras/", max_length=300, blank=True)
    # Where the provider keeps it (Replicate's destination version), for models that load it there.
    provider_reference = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "LoRA"
        verbose_name_plural = "LoRAs"

    def __str__(self) -> str:
        return self.name
