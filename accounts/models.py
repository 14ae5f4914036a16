import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class AtelierUserManager(UserManager):
    """Users sign in with their email; the username is kept for admin credentials (seed 001)."""

    def _create_user(self, username, email, password, **extra_fields):
        email = self.normalize_email(email).lower()
        username = username or email
        return super()._create_user(username, email, password, **extra_fields)

    def create_user(self, email=None, password=None, username=None, **extra_fields):
        return super().create_user(username, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, username=None, **extra_fields):
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    # Nothing but the email is asked for: the manager fills the username in from the email, so
    # `createsuperuser --noinput --email …` makes an operator without a --username.
    REQUIRED_FIELDS: list[str] = []

    objects = AtelierUserManager()

    def __str__(self) -> str:
        return self.email


class APIKey(models.Model):
    """A bearer key. Only a hash is stored; the prefix lets its owner recognise it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
