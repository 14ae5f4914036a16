"""The training API's objects, field by field, so that /api/schema/ states the shapes served.

A dataset, a job and a LoRA are shown as training/presenters.py builds them (the Training page
shows the same dicts); each serializer here takes the model object, asks its presenter for that
dict and types every key of it. tests/training/test_api_shapes.py holds the two to the same keys.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from training.models import Status, TrainingEvent
from training.presenters import dataset_as_dict, lora_as_dict, training_as_dict


def constant(value, **kwargs) -> serializers.Field:
    """A key every answer of a kind carries with the same value (seed 004's ``"status": "success"``)."""
    if isinstance(value, bool):
        return serializers.BooleanField(read_only=True, default=value, **kwargs)
    return serializers.ChoiceField(choices=[value], read_only=True, default=value, **kwargs)


# The success envelope's ``"success": true`` (DESIGN.md §4), for the answers built on it.
class SuccessSerializer(serializers.Serializer):
    success = constant(True, help_text="Always true")


class DatasetImageSerializer(serializers.Serializer):
    name = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    caption = serializers.CharField(allow_blank=True)


class TrainingDatasetSerializer(serializers.Serializer):
    """A checked upload, as ``/api/training/upload`` answers it."""

    dataset_id = serializers.UUIDField()
    images_data_url = serializers.CharField(help_text="Give it (or dataset_id) to /api/training/start")
    image_count = serializers.IntegerField()
    total_size = serializers.CharField(help_text="e.g. 15.2MB")
    total_size_bytes = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    images = DatasetImageSerializer(many=True)

    def to_representation(self, instance):
        return super().to_representation(dataset_as_dict(instance))


class TrainingSampleSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    seed = serializers.IntegerField()
    url = serializers.CharField()


class TrainingLogEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    message = serializers.CharField(allow_blank=True)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
        "description": "[step, loss]",
    }
)
class LossPointField(serializers.JSONField):
    """``[step, loss]`` as stored: the step stays a whole number, the loss a float."""


class WhenGiven:
    """A key the presenter gives only in some states: absent then, not null (``training_time``
    and ``final_loss`` come with a completed job, and may be null there)."""

    def get_attribute(self, instance):
        if self.field_name not in instance:
            raise SkipField()
        return super().get_attribute(instance)


class CompletedCharField(WhenGiven, serializers.CharField):
    pass


class CompletedFloatField(WhenGiven, serializers.FloatField):
    pass


class JobStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Status.choices, **kwargs)


class JobStatusFieldSchema(OpenApiSerializerFieldExtension):
    """A job's status as one named component, TrainingStatusEnum, that every shape of a job refers
    to: left inline, the set would appear in several components and be named after a hash."""

    target_class = JobStatusField

    def map_serializer_field(self, auto_schema, direction):
        description = "\n".join(f"* `{value}` - {label}" for value, label in Status.choices)
        component = ResolvedComponent(
            name="TrainingStatusEnum",
            type=ResolvedComponent.SCHEMA,
            object="TrainingStatusEnum",
            schema={"enum": Status.values, "type": "string", "description": description},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class TrainingBriefSerializer(serializers.Serializer):
    """A job as the list shows it: status, progress, price, errors, samples, files."""

    id = serializers.UUIDField()
    training_id = serializers.UUIDField(help_text="The same as id (seed 004)")
    team = serializers.UUIDField(allow_null=True, help_text="The team it was started in; null: personal")
    status = JobStatusField()
    provider = serializers.CharField()
    base_model = serializers.CharField(allow_blank=True)
    trigger_word = serializers.CharField()
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent")
    current_step = serializers.IntegerField()
    total_steps = serializers.IntegerField()
    estimated_remaining = serializers.CharField(allow_null=True, help_text='e.g. "12 minutes"')
    estimated_remaining_seconds = serializers.IntegerField(allow_null=True)
    loss = serializers.FloatField(allow_null=True)
    cost = serializers.IntegerField(help_text="Credits held when it started")
    refunded = serializers.IntegerField(help_text="Credits given back (cancel, failure)")
    error = serializers.CharField(allow_null=True)
    error_type = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    samples = TrainingSampleSerializer(many=True)
    model_url = serializers.CharField(allow_null=True, help_text="The LoRA's weights, once trained")
    config_url = serializers.CharField(allow_null=True)
    lora_id = serializers.UUIDField(allow_null=True)
    training_time = CompletedCharField(allow_null=True, required=False, help_text='Once completed, e.g. "12 minutes"')
    final_loss = CompletedFloatField(allow_null=True, required=False, help_text="Once completed")

    def to_representation(self, instance):
        return super().to_representation(training_as_dict(instance, brief=True))


class TrainingSerializer(TrainingBriefSerializer):
    """A job with its dataset's size, its log and its loss curve."""

    image_count = serializers.IntegerField()
    logs = serializers.ListField(child=serializers.CharField(allow_blank=True))
    log_entries = TrainingLogEntrySerializer(many=True)
    loss_history = serializers.ListField(child=LossPointField())

    def to_representation(self, instance):
        return serializers.Serializer.to_representation(self, training_as_dict(instance))


class LoraUsageItemSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="The LoRA's id")
    scale = serializers.FloatField()


class LoraUsageSerializer(serializers.Serializer):
    loras = LoraUsageItemSerializer(many=True, help_text="The loras field of POST /api/generate")


class LoraSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    trigger_word = serializers.CharField()
    provider = serializers.CharField()
    base_model = serializers.CharField(allow_blank=True)
    training_id = serializers.UUIDField(allow_null=True)
    team = serializers.UUIDField(allow_null=True, help_text="The team whose members use it; null: personal")
    model_url = serializers.CharField(allow_null=True)
    usage = LoraUsageSerializer()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        return super().to_representation(lora_as_dict(instance))


class TrainingEventSerializer(serializers.Serializer):
    """One server-sent event of a job's stream (``id:``, ``event:``, ``data:`` lines)."""

    id = serializers.CharField(required=False, help_text="Send it back as Last-Event-ID to resume after it")
    event = serializers.ChoiceField(choices=TrainingEvent.Type.choices)
    data = serializers.CharField(
        help_text="A JSON object: {status, error, error_type} for status, {progress, current_step, loss, …} "
        "for progress, {at, message} for log, {step, seed, prompt, path} for sample"
    )

    class Meta:
        ref_name = "TrainingEvent"
