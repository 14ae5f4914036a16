from django.db import models


class Provider(models.TextChoices):
    LOCAL = "local", "Local (offline procedural renderer)"
    FAL = "fal", "fal.ai"
    OPENAI = "openai", "OpenAI"
    REPLICATE = "replicate", "Replicate"
    HUGGINGFACE = "huggingface", "Hugging Face"
    COMFYUI = "comfyui", "ComfyUI"


class ModelKind(models.TextChoices):
    TEXT_TO_IMAGE = "text-to-image", "Text to image"
    IMAGE_TO_IMAGE = "image-to-image", "Image to image"
    INPAINTING = "inpainting", "Inpainting"
    IMAGE_TO_VIDEO = "image-to-video", "Image to video"
    UPSCALE = "upscale", "Upscale"


class AIModel(models.Model):
    """A model a user can generate with, and the limits the API enforces for it.

    The primary key is the public model id (``fal-ai/flux/dev``); ``provider_model`` is the
    identifier the provider's own API expects when it differs (``dall-e-3``).
    """

    id = models.CharField(primary_key=True, max_length=200)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    provider = models.CharField(max_length=20, choices=Provider.choices, db_index=True)
    kind = models.CharField(max_length=20, choices=ModelKind.choices, db_index=True)
    provider_model = models.CharField(max_length=300, blank=True)
    aliases = models.JSONField(default=list, blank=True)
    credit_cost = models.PositiveIntegerField(default=1)
    min_width = models.PositiveIntegerField(default=256)
    max_width = models.PositiveIntegerField(default=2048)
    min_height = models.PositiveIntegerField(default=256)
    max_height = models.PositiveIntegerField(default=2048)
    default_width = models.PositiveIntegerField(default=1024)
    default_height = models.PositiveIntegerField(default=1024)
    max_images = models.PositiveSmallIntegerField(default=4)
    supports = models.JSONField(
        default=list,
        blank=True,
        help_text="Optional parameters the model accepts, e.g. negative_prompt, seed, "
        "guidance_scale, num_inference_steps, loras, strength.",
    )
    defaults = models.JSONField(default=dict, blank=True)
    rate_limit = models.CharField(
        max_length=20, blank=True, help_text="django-ratelimit rate such as '10/m'; blank = none."
    )
    info = models.JSONField(default=dict, blank=True, help_text="what_is, use_cases, tips")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = "AI model"
        constraints = [
            models.CheckConstraint(condition=models.Q(max_images__gte=1), name="aimodel_max_images_gte_1"),
            models.CheckConstraint(
                condition=models.Q(min_width__lte=models.F("max_width"))
                & models.Q(min_height__lte=models.F("max_height")),
                name="aimodel_size_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def upstream_id(self) -> str:
        return self.provider_model or self.id
