import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.errors import ValidationFailed
from core.serializer_fields import ShallowCopiedFieldsMixin
from gallery.serializers import AssetSerializer
from generation.models import Generation, Status
from generation.previews_cache import preview_path
from generation.selectors import generation_latest_preview, generation_queue_position
from generation.webhook_payloads import WEBHOOK_EVENTS


class OptionalBooleanField(serializers.BooleanField):
    """A boolean that stays unset when a form (multipart) leaves it out.

    DRF reads a missing boolean in form data as False, as for an unticked HTML checkbox; for
    a provider switch such as ``enable_safety_checker`` that would silently turn it off.
    """

    default_empty_html = serializers.empty


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "example": "square_hd"},
            {
                "type": "object",
                "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
                "required": ["width", "height"],
            },
        ]
    }
)
class ImageSizeField(serializers.Field):
    """A preset name (``square_hd``) or ``{"width": …, "height": …}``."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.lstrip().startswith("{"):
            # A multipart form sends the object as JSON text.
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError('Use a preset name or {"width": …, "height": …}.') from None
        if isinstance(data, str):
            return data
        if isinstance(data, dict):
            return _size_of(data)
        raise serializers.ValidationError('Use a preset name or {"width": …, "height": …}.')

    def to_representation(self, value):
        return value


# Unbound, shared: validating a value keeps no state on the field.
_SIDE = serializers.IntegerField(min_value=1, max_value=8192)


def _size_of(data: dict) -> dict:
    """``{"width", "height"}`` checked as a nested serializer would, errors per key."""
    size, errors = {}, {}
    for name in ("width", "height"):
        if name not in data:
            errors[name] = serializers.ValidationError(_SIDE.error_messages["required"], code="required").detail
            continue
        try:
            size[name] = _SIDE.run_validation(data[name])
        except serializers.ValidationError as exc:
            errors[name] = exc.detail
    if errors:
        raise serializers.ValidationError(errors)
    return size


class LoraSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=500)
    scale = serializers.FloatField(min_value=0, max_value=4, default=1.0)


class GenerateInputSerializer(ShallowCopiedFieldsMixin, serializers.Serializer):
    """The union of the seeds' generate parameters (DESIGN.md §4)."""

    model = serializers.CharField(required=False, allow_blank=True, max_length=200)
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=True)
    negative_prompt = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    image_size = ImageSizeField(required=False)
    width = serializers.IntegerField(required=False, min_value=1, max_value=8192)
    height = serializers.IntegerField(required=False, min_value=1, max_value=8192)
    num_images = serializers.IntegerField(required=False, min_value=1, max_value=4, default=1)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**32 - 1)
    guidance_scale = serializers.FloatField(required=False, min_value=0, max_value=20)
    cfg_scale = serializers.FloatField(required=False, min_value=0, max_value=20, write_only=True)
    num_inference_steps = serializers.IntegerField(required=False, min_value=1, max_value=100)
    steps = serializers.IntegerField(required=False, min_value=1, max_value=100, write_only=True)
    loras = LoraSerializer(many=True, required=False)
    strength = serializers.FloatField(required=False, min_value=0, max_value=1)
    controlnet_conditioning_scale = serializers.FloatField(required=False, min_value=0, max_value=2)
    enable_safety_checker = OptionalBooleanField(required=False)
    # No default here: without a format the catalog's default_format setting applies.
    format = serializers.ChoiceField(choices=["png", "jpeg", "jpg", "webp"], required=False)
    sync_mode = OptionalBooleanField(
        required=False,
        help_text="Wait (bounded) for the result. Default: false for JSON, true for a form post (seed 001's clients).",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Answer the cost and whether the balance covers it; charge nothing."
    )
    art_style = serializers.CharField(required=False, allow_blank=True, max_length=100)
    style = serializers.CharField(required=False, allow_blank=True, max_length=100, write_only=True)
    expand_prompt = serializers.BooleanField(required=False, default=False)
    # OpenAI image quality (DALL·E 3: standard/hd, GPT Image: low/medium/high/auto).
    quality = serializers.ChoiceField(choices=["auto", "standard", "hd", "low", "medium", "high"], required=False)
    background = serializers.ChoiceField(
        choices=["transparent", "opaque", "auto"],
        required=False,
        help_text="transparent: a see-through background, on models that can make one (GPT Image), in png or webp.",
    )
    output_compression = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        help_text="JPEG/WebP quality, 0-100 (lower: smaller files); png ignores it. Default: the model's own.",
    )
    # Input images (seed 001 multipart files, seed 003 URLs). URLs are plain text here: the
    # guarded fetcher decides, and says why it refuses one.
    image = serializers.FileField(required=False, help_text="Reference image (PNG, JPEG, WebP, GIF, BMP; ≤ 10 MB).")
    mask = serializers.FileField(required=False, help_text="Inpainting mask: white = repaint, black = keep.")
    image_url = serializers.CharField(required=False, allow_blank=True, max_length=2048)
    webhook_url = serializers.CharField(required=False, allow_blank=True, max_length=2048)
    webhook_events_filter = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENTS),
        required=False,
        max_length=len(WEBHOOK_EVENTS),
        help_text=(
            "Which events webhook_url receives: start (image.started), preview (image.preview), "
            "logs (image.log), completed (image.generated, image.failed or image.cancelled), as "
            "Replicate's start/output/logs/completed. completed is always sent; left out, it is the "
            "only one. At most one start, preview or logs message per 500 ms each."
        ),
    )
    previews = OptionalBooleanField(
        required=False,
        help_text=(
            "Send in-progress pictures (preview events on the live stream, preview_url while it runs). Default: true."
        ),
    )
    partial_images = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=3,
        help_text="GPT Image: how many partial images to stream as previews (0-3; default 2 when previews are on).",
    )
    mask_url = serializers.CharField(required=False, allow_blank=True, max_length=2048)
    num_frames = serializers.IntegerField(required=False, min_value=2, max_value=1000, help_text="Video frames.")
    fps = serializers.IntegerField(required=False, min_value=1, max_value=120, help_text="Video frames per second.")
    upscale_factor = serializers.IntegerField(required=False, min_value=1, max_value=8)
    collection = serializers.UUIDField(required=False, allow_null=True, help_text="One of your collections.")
    inputs_from = serializers.UUIDField(
        required=False, help_text="Reuse the input image and mask of one of your earlier generations."
    )
    from_asset = serializers.UUIDField(
        required=False,
        help_text=(
            "Remix one of your images: every setting of the generation that made it (its own seed, one image, "
            "its input image and mask), each field of this request overriding it."
        ),
    )
    remix_of = serializers.UUIDField(
        required=False,
        help_text="Remix one of your generations: every setting of it (seed, image count, inputs), overridable.",
    )
    embed_metadata = OptionalBooleanField(
        required=False,
        help_text=(
            "false: the files of this generation carry what made them without the prompt and negative prompt. "
            "Left out: your preference embed_prompt_metadata."
        ),
    )

    PARAM_FIELDS = (
        "quality",
        "guidance_scale",
        "num_inference_steps",
        "loras",
        "strength",
        "controlnet_conditioning_scale",
        "enable_safety_checker",
        "num_frames",
        "fps",
        "upscale_factor",
        "partial_images",
        "background",
        "output_compression",
    )

    def validate_format(self, value: str) -> str:
        return "jpeg" if value == "jpg" else value

    def validate(self, attrs):
        if "from_asset" in attrs and "remix_of" in attrs:
            raise serializers.ValidationError({"remix_of": ["Send from_asset or remix_of, not both."]})
        if ("from_asset" in attrs or "remix_of" in attrs) and "num_images" not in self.initial_data:
            # Not asked: the remixed generation's count applies, not this field's default.
            attrs.pop("num_images", None)
        # Seed 002 says cfg_scale and steps; the canonical names are guidance_scale and
        # num_inference_steps.
        if "cfg_scale" in attrs:
            attrs.setdefault("guidance_scale", attrs.pop("cfg_scale"))
        if "steps" in attrs:
            attrs.setdefault("num_inference_steps", attrs.pop("steps"))
        if attrs.get("style") in ("vivid", "natural"):
            # DALL·E 3's own style parameter, not one of our art styles.
            attrs["params_style"] = attrs.pop("style")
        if "style" in attrs:
            style = attrs.pop("style")
            attrs["art_style"] = attrs.get("art_style") or style
        attrs["params"] = {name: attrs.pop(name) for name in self.PARAM_FIELDS if name in attrs}
        if "params_style" in attrs:
            attrs["params"]["style"] = attrs.pop("params_style")
        if attrs.get("sync_mode"):
            # Passed on too: fal then answers the result inline instead of through its CDN.
            attrs["params"]["sync_mode"] = True
        return attrs


# Seed 003's ``generation.message``. Its answer to a submission is QUEUED_MESSAGE.
QUEUED_MESSAGE = "Generation queued successfully. Use the status endpoint to check progress."
STILL_RUNNING_MESSAGE = "Generation still running. Use the status endpoint to check progress."
_STATUS_MESSAGES = {
    Status.PENDING: "Generation queued",
    Status.IN_QUEUE: "Generation queued",
    Status.PROCESSING: "Generation in progress",
    Status.COMPLETED: "Generation completed",
    Status.FAILED: "Generation failed",
    Status.CANCELLED: "Generation cancelled",
}


class GenerationSerializer(ShallowCopiedFieldsMixin, serializers.Serializer):
    """A generation as every answer shows it. Fields declared one by one (not a ModelSerializer,
    which rebuilds its fields from the model for every answer): this is on the path of every
    submission and poll."""

    id = serializers.UUIDField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    model = serializers.CharField(source="model_id", read_only=True)
    provider = serializers.CharField(read_only=True)
    prompt = serializers.CharField(read_only=True)
    final_prompt = serializers.CharField(read_only=True, help_text="The prompt sent to the provider.")
    negative_prompt = serializers.CharField(read_only=True)
    width = serializers.IntegerField(read_only=True)
    height = serializers.IntegerField(read_only=True)
    num_images = serializers.IntegerField(read_only=True)
    seed = serializers.IntegerField(read_only=True, allow_null=True)
    output_format = serializers.CharField(read_only=True)
    params = serializers.JSONField(read_only=True, help_text="Other model parameters, as sent.")
    collection = serializers.UUIDField(source="collection_id", read_only=True, allow_null=True)
    team = serializers.UUIDField(
        source="team_id", read_only=True, allow_null=True, help_text="The team it was made in; null: personal."
    )
    remix_of = serializers.UUIDField(
        source="remix_of_id",
        read_only=True,
        allow_null=True,
        help_text="The generation whose settings this one started from (from_asset or remix_of).",
    )
    embed_metadata = serializers.BooleanField(
        source="embed_prompt_metadata",
        read_only=True,
        help_text="Whether its files carry the prompt and negative prompt.",
    )
    credits_used = serializers.IntegerField(source="cost", read_only=True)
    webhook_events_filter = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        allow_null=True,
        help_text="The events its webhook_url receives (completed always among them); null: completed only.",
    )
    api = serializers.ChoiceField(
        choices=Generation.Api.choices, read_only=True, help_text="The API it was asked for through."
    )
    queue_position = serializers.SerializerMethodField()
    previews = serializers.BooleanField(read_only=True, help_text="Whether it sends in-progress pictures.")
    preview_url = serializers.SerializerMethodField(
        help_text="Its latest in-progress picture (WebP) while it runs; null once finished or before the first one."
    )
    progress = serializers.IntegerField(read_only=True)
    logs = serializers.JSONField(read_only=True)
    error = serializers.CharField(read_only=True)
    error_type = serializers.CharField(read_only=True)
    error_details = serializers.JSONField(read_only=True, allow_null=True)
    images = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(
        help_text="What became of it, in a sentence; a submission's answer says how to follow one still running."
    )
    created_at = serializers.DateTimeField(read_only=True)
    queued_at = serializers.DateTimeField(read_only=True, allow_null=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)

    @extend_schema_field(AssetSerializer(many=True))
    def get_images(self, generation: Generation) -> list:
        # Assets exist only once a generation has completed; skip the query before that.
        if generation.status != Status.COMPLETED:
            return []
        return AssetSerializer(generation.assets.all(), many=True, context=self.context).data

    def get_message(self, generation: Generation) -> str:
        # ``submitted`` ("queued" or "waited") marks the answer to POST /api/generate.
        submitted = self.context.get("submitted")
        if submitted and generation.status not in (Status.COMPLETED, Status.FAILED, Status.CANCELLED):
            return STILL_RUNNING_MESSAGE if submitted == "waited" else QUEUED_MESSAGE
        return _STATUS_MESSAGES.get(generation.status, generation.status)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_preview_url(self, generation: Generation) -> str | None:
        if generation.status != Status.PROCESSING:
            return None
        preview = generation_latest_preview(generation.pk)
        if preview is None:
            return None
        path = preview_path(generation.pk, index=preview.index)
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_queue_position(self, generation: Generation) -> int | None:
        # A submission's answer may know it already, from the broker (``Submitted.queue_position``).
        known = self.context.get("queue_position")
        return known if known is not None else generation_queue_position(generation=generation)


class GenerationListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)


def generate_input(data) -> dict:
    """A seed route's request in the canonical parameters, validated as ``POST /api/generate``
    validates them (400 in the envelope otherwise)."""
    payload = GenerateInputSerializer(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def idempotency_key_of(request) -> str | None:
    """The request's ``Idempotency-Key`` header (1 to 255 characters), or None."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 255:
        raise ValidationFailed(details={"Idempotency-Key": ["Use 1 to 255 characters."]})
    return key


class CancelManyInputSerializer(serializers.Serializer):
    """``POST /api/generate/cancel``: exactly one of ``status`` and ``all``."""

    status = serializers.ChoiceField(
        choices=[Status.IN_QUEUE], required=False, help_text="in_queue: every job of yours still waiting to start."
    )
    all = serializers.BooleanField(required=False, help_text="true: every unfinished job of yours, waiting or running.")

    def validate(self, attrs):
        if "status" in attrs and "all" in attrs:
            raise serializers.ValidationError('Send either "status" or "all", not both.')
        if "status" not in attrs and not attrs.get("all"):
            raise serializers.ValidationError('Send {"status": "in_queue"} or {"all": true}.')
        return attrs
