"""Reads of teams, memberships and invites. Every read of a team goes through a membership:
someone outside the team finds nothing (the API answers 404)."""

import hashlib
from uuid import UUID

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts import keys
from core.errors import NotFound
from teams.models import Invite, Membership, Team, TeamAPIKey

# Team keys read ``atlteam_<prefix>_<secret>``: told apart from personal keys without a query.
TEAM_KEY_PREFIX = "atlteam"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _uuid(value) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def team_list_for_user(*, user) -> QuerySet[Team]:
    """The live teams the user belongs to, each with ``role`` (theirs) annotated."""
    return Team.objects.filter(memberships__user=user, deleted_at__isnull=True).annotate(role=F("memberships__role"))


def team_find_live(*, team_id) -> Team | None:
    """The live (not deleted) team ``team_id``, without a membership check: for staff tools."""
    team_id = _uuid(team_id)
    if team_id is None:
        return None
    return Team.objects.filter(pk=team_id, deleted_at__isnull=True).first()


def team_get_live(*, team_id) -> Team:
    """As ``team_find_live``, raising NotFound (404)."""
    team = team_find_live(team_id=team_id)
    if team is None:
        raise NotFound("Team not found")
    return team


def membership_find(*, user, team_id) -> Membership | None:
    """The user's membership of the live team ``team_id`` (with the team), or None."""
    team_id = _uuid(team_id)
    if team_id is None or user is None or not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("team")
        .filter(team_id=team_id, user=user, team__deleted_at__isnull=True)
        .first()
    )


def membership_get(*, user, team_id) -> Membership:
    """As ``membership_find``, raising NotFound (404) for someone outside the team."""
    membership = membership_find(user=user, team_id=team_id)
    if membership is None:
        raise NotFound("Team not found")
    return membership


def member_list(*, team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("joined_at", "id")


def member_get(*, team: Team, user_id) -> Membership:
    """A member of ``team`` by their public user id, or NotFound."""
    user_id = _uuid(user_id)
    membership = member_list(team=team).filter(user__uuid=user_id).first() if user_id else None
    if membership is None:
        raise NotFound("Member not found")
    return membership


def owner_count(*, team: Team) -> int:
    return Membership.objects.filter(team=team, role="owner").count()


def invite_list_pending(*, team: Team) -> QuerySet[Invite]:
    return Invite.objects.filter(team=team, accepted_at__isnull=True, expires_at__gt=timezone.now())


def team_invites_for(*, membership: Membership) -> QuerySet[Invite]:
    """The pending invites ``membership`` may see: all of them for an owner or admin, none for
    a member (the list answers empty rather than 403)."""
    if not membership.manages:
        return Invite.objects.none()
    return invite_list_pending(team=membership.team)


def invite_find(*, token: str) -> Invite | None:
    """The invite whose link carries ``token`` (accepted or expired ones too), or None."""
    if not token or len(token) > 200:
        return None
    return Invite.objects.select_related("team").filter(token_hash=token_hash(token)).first()


def team_api_key_list(*, team: Team) -> QuerySet[TeamAPIKey]:
    return TeamAPIKey.objects.filter(team=team, revoked_at__isnull=True).select_related("created_by")


def team_keys_for(*, membership: Membership) -> QuerySet[TeamAPIKey]:
    """The live team keys ``membership`` may see: all of them for an owner or admin, none for
    a member (the list answers empty rather than 403)."""
    if not membership.manages:
        return TeamAPIKey.objects.none()
    return team_api_key_list(team=membership.team)


def team_api_key_find_active(*, full_key: str) -> TeamAPIKey | None:
    """The live team key ``atlteam_<prefix>_<secret>`` names, or None."""
    parts = full_key.split("_", 2)
    if len(parts) != 3 or parts[0] != TEAM_KEY_PREFIX or not parts[1]:
        return None
    api_key = (
        TeamAPIKey.objects.select_related("team", "created_by")
        .filter(prefix=parts[1], revoked_at__isnull=True, team__deleted_at__isnull=True)
        .first()
    )
    if api_key is None or not keys.matches(full_key, api_key.key_hash):
        return None
    return api_key


def space_listed_q(*, user, team=None, prefix: str = "", owner_field: str = "user") -> Q:
    """The rows a list shows in a space: the team's (``team``), or the user's personal ones.
    ``prefix``: the path to the row that has ``user`` and ``team`` (``"generation__"``);
    ``owner_field``: the row's field naming its maker (``owner`` in the gallery)."""
    if team is not None:
        return Q(**{f"{prefix}team": team})
    return Q(**{f"{prefix}team__isnull": True, f"{prefix}{owner_field}": user})


def space_visible_q(*, user, key_team=None, prefix: str = "", owner_field: str = "user") -> Q:
    """The rows the caller may open by id: their personal ones and those of every team they
    belong to; with a team key (``key_team``), the key's team's only."""
    if key_team is not None:
        return Q(**{f"{prefix}team": key_team})
    teams = Membership.objects.filter(user=user, team__deleted_at__isnull=True).values("team_id")
    return Q(**{f"{prefix}team__isnull": True, f"{prefix}{owner_field}": user}) | Q(**{f"{prefix}team__in": teams})
