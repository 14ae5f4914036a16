import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


def asset_upload_to(instance: "Asset", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()
    created = instance.created_at
    return f"assets/{instance.owner_id}/{created:%Y/%m}/{instance.id}.{extension}"


def asset_thumbnail_upload_to(instance: "Asset", filename: str) -> str:
    created = instance.created_at
    return f"thumbnails/{instance.owner_id}/{created:%Y/%m}/{instance.id}.webp"


def new_short_key() -> str:
    """Ten URL-safe characters (60 bits): unguessable, short enough for a link."""
    return secrets.token_urlsafe(8)[:10]


class Collection(models.Model):
    """A named set of the owner's assets (InvokeAI's boards; a blog post's images)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    # A team's collection: its members file the team's assets in it (null: its owner's).
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], condition=Q(team__isnull=True), name="collection_owner_name_unique"
            ),
            models.UniqueConstraint(
                fields=["team", "name"], condition=Q(team__isnull=False), name="collection_team_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    class Type(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assets")
    # Made in a team: the team's, in its library for every member (null: its owner's). It never
    # changes: nothing moves between spaces.
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    generation = models.ForeignKey(
        "generation.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    collection = models.ForeignKey(Collection, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets")
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.IMAGE)
    file = models.FileField(upload_to=asset_upload_to, max_length=300)
    thumbnail = models.FileField(upload_to=asset_thumbnail_upload_to, max_length=300, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    duration = models.FloatField(null=True, blank=True, help_text="Seconds, for videos.")
    format = models.CharField(max_length=10)
    file_size = models.PositiveBigIntegerField()
    prompt = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    style = models.CharField(max_length=100, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    is_favorited = models.BooleanField(default=False)
    is_public = models.BooleanField(default=False)
    is_nsfw = models.BooleanField(default=False)
    share_prompt_metadata = models.BooleanField(
        null=True,
        blank=True,
        help_text=(
            "Whether its share link serves the file with its prompts in it; empty: as its owner's preference says."
        ),
    )
    short_key = models.CharField(max_length=16, unique=True, default=new_short_key, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every list is one owner's, ordered by (created_at, id) in either direction, which a
        # b-tree serves by scanning forwards or backwards; keyset pages seek into these.
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="asset_owner_newest"),
            models.Index(fields=["owner", "type", "-created_at", "-id"], name="asset_owner_type_newest"),
            models.Index(
                fields=["owner", "-created_at", "-id"],
                name="asset_owner_favorites_newest",
                condition=Q(is_favorited=True),
            ),
            models.Index(fields=["collection", "-created_at", "-id"], name="asset_collection_newest"),
            models.Index(fields=["team", "-created_at", "-id"], name="asset_team_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.format, "application/octet-stream")

    @property
    def is_shareable(self) -> bool:
        """Reachable by its short key by anyone: public, and not marked NSFW."""
        return self.is_public and not self.is_nsfw


CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "webm": "video/webm",
}
