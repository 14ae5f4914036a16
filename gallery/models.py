import uuid

from django.conf import settings
from django.db import models


def asset_upload_to(instance: "Asset", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()
    created = instance.created_at
    return f"assets/{instance.owner_id}/{created:%Y/%m}/{instance.id}.{extension}"


class Asset(models.Model):
    class Type(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assets")
    generation = models.ForeignKey(
        "generation.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.IMAGE)
    file = models.FileField(upload_to=asset_upload_to, max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    file_size = models.PositiveBigIntegerField()
    prompt = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    is_favorited = models.BooleanField(default=False)
    is_public = models.BooleanField(default=False)
    is_nsfw = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at", "-id"], name="asset_owner_newest")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @property
    def content_type(self) -> str:
        return {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "mp4": "video/mp4"}.get(
            self.format, "application/octet-stream"
        )
