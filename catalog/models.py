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

    @property
    def supports_previews(self) -> bool:
        """Whether its provider shows in-progress pictures of this model's jobs: the local
        renderer as it paints a picture from a prompt, ComfyUI always, OpenAI for GPT Image
        (partial images), fal and Replicate only for a model that streams, which its
        ``defaults`` say with ``"stream": true``."""
        if self.provider == Provider.LOCAL:
            return self.kind == ModelKind.TEXT_TO_IMAGE
        if self.provider == Provider.COMFYUI:
            return True
        if self.provider == Provider.OPENAI:
            return self.upstream_id.startswith("gpt-image") and self.kind != ModelKind.IMAGE_TO_VIDEO
        if self.provider in (Provider.FAL, Provider.REPLICATE):
            return (self.defaults or {}).get("stream") is True
        return False

    @property
    def supports_transparency(self) -> bool:
        """Whether it can draw a transparent background (``background: transparent``): GPT Image."""
        return self.provider == Provider.OPENAI and self.upstream_id.startswith("gpt-image")


PROMPT_SLOT = "{prompt}"
NEGATIVE_SLOT = "{negative_prompt}"


def _join(*parts: str) -> str:
    return ", ".join(part.strip(" ,") for part in parts if part and part.strip(" ,"))


class Style(models.Model):
    """An art style: a prompt template with a ``{prompt}`` slot, and what it adds to the negative prompt."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    prompt_template = models.TextField(
        help_text="Must contain {prompt}, e.g. '{prompt}, oil painting, rich brushwork'."
    )
    negative_prompt_template = models.TextField(
        blank=True,
        help_text="Added to the user's negative prompt; may place it with {negative_prompt}.",
    )
    sort_order = models.PositiveIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(prompt_template__contains=PROMPT_SLOT), name="style_template_has_prompt_slot"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def apply(self, prompt: str) -> str:
        # A plain replace rather than str.format: templates are free text and may hold other braces.
        return self.prompt_template.replace(PROMPT_SLOT, prompt.strip()).strip(" ,")

    def apply_negative(self, negative_prompt: str) -> str:
        template = self.negative_prompt_template.strip()
        if not template:
            return negative_prompt.strip()
        if NEGATIVE_SLOT in template:
            # Negative prompts are comma-separated terms: an empty slot must not leave ", ," behind.
            return _join(*template.replace(NEGATIVE_SLOT, negative_prompt).split(","))
        return _join(negative_prompt, template)


class Format(models.Model):
    """A named image size (``square_hd``), accepted as ``image_size`` on generate."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sort_order = models.PositiveIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(width__gte=1, width__lte=8192, height__gte=1, height__lte=8192),
                name="format_size_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.width}×{self.height})"


class PromptExample(models.Model):
    title = models.CharField(max_length=200, unique=True)
    prompt = models.TextField()
    category = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "title"]

    def __str__(self) -> str:
        return self.title


class SettingType(models.TextChoices):
    STRING = "string", "Text"
    INTEGER = "integer", "Whole number"
    FLOAT = "float", "Number"
    BOOLEAN = "boolean", "Yes/no"
    JSON = "json", "JSON"


class Setting(models.Model):
    """A platform setting operators change at run time. ``value`` is text, read as ``value_type``."""

    name = models.CharField(max_length=100, unique=True)
    value = models.TextField(blank=True)
    value_type = models.CharField(max_length=10, choices=SettingType.choices, default=SettingType.STRING)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkflowTemplate(models.Model):
    """A ComfyUI graph in API format, and which node input takes each request parameter.

    ``slots`` maps a slot name (``prompt``, ``negative_prompt``, ``width``, ``height``, ``steps``,
    ``cfg``, ``seed``, ``checkpoint``, ``batch_size``) to ``[node_id, input_name]``. A ComfyUI
    model in the catalog names its template in ``defaults["workflow"]``.
    """

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    graph = models.JSONField(help_text="The workflow in ComfyUI's API format (File → Export (API)).")
    slots = models.JSONField(
        default=dict,
        help_text='Where each parameter goes, e.g. {"prompt": ["6", "text"], "width": ["5", "width"]}.',
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
