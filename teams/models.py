"""Teams, their members with a role, and the invites that bring people in.

A person keeps their personal space and may belong to several teams. Plain models rather than
django-organizations: its owner is a separate model and its invitations are a backend of their
own, while a team here needs three roles on one membership row, per-member caps and UUID ids.
"""

import uuid

from django.conf import settings
from django.db import models


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    allowed_models = models.JSONField(
        default=list, blank=True, help_text="Model ids the team's members may use; empty allows every model."
    )
    members_may_train = models.BooleanField(
        default=True, help_text="Whether members (not only owners and admins) may train LoRAs as the team."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A deleted team keeps its rows (its ledger, its objects) for the operators; nobody sees it.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "created_at"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


# Owners and admins manage the team; only owners make or unmake owners.
MANAGERS = (Role.OWNER, Role.ADMIN)


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    monthly_credit_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Credits of the team's wallet this member may spend per UTC month; blank: no cap.",
    )
    daily_generation_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Generations this member may start as the team per UTC day; blank = no cap."
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_membership_once")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def manages(self) -> bool:
        return self.role in MANAGERS


class Invite(models.Model):
    """An invitation by email. Only a hash of its token is kept: the token is in the mailed link."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} to {self.team} ({self.role})"


class TeamAPIKey(models.Model):
    """A bearer key that acts as the team, made by an owner or admin: ``atlteam_<prefix>_<secret>``.

    Work done with it is charged to the team's wallet in the name of the member who made it; the
    key stops working when that person leaves the team or loses the admin role.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "team API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
