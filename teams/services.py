"""Every write of teams: creating them, invites, members and their roles and caps, team keys.

The rules: owners and admins manage the team (invite, remove, set roles and caps); only owners
make, unmake or remove owners and delete the team; the last owner can neither leave nor be
demoted. Changes of roles take the team's row lock, so two owners demoting each other at once
cannot leave the team without one.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import keys
from core.errors import NotFound, ValidationFailed
from teams.errors import TeamPermissionDenied
from teams.models import Invite, Membership, Role, Team, TeamAPIKey
from teams.policy import model_id_resolve
from teams.selectors import TEAM_KEY_PREFIX, owner_count, token_hash
from teams.signals import member_joined, member_left, team_created

logger = logging.getLogger(__name__)


def _require_manager(membership: Membership) -> None:
    if not membership.manages:
        raise TeamPermissionDenied("Only the team's owners and admins may do that")


def _require_owner(membership: Membership, what: str) -> None:
    if membership.role != Role.OWNER:
        raise TeamPermissionDenied(f"Only the team's owners may {what}")


def _clean_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationFailed(details={"name": ["A team needs a name."]})
    if len(name) > 100:
        raise ValidationFailed(details={"name": ["At most 100 characters."]})
    return name


@transaction.atomic
def team_create(*, user, name: str) -> Membership:
    """A new team with ``user`` as its owner; apps above open its wallet (``team_created``)."""
    team = Team.objects.create(name=_clean_name(name), created_by=user)
    membership = Membership.objects.create(team=team, user=user, role=Role.OWNER)
    team_created.send(sender=Team, team=team, user=user)
    return membership


def team_update(*, membership: Membership, name=None, allowed_models=None, members_may_train=None) -> Team:
    """Renames the team or sets its policy (owners and admins). Models are named by id or alias
    and kept by id; a name the catalog does not know is refused."""
    _require_manager(membership)
    team = membership.team
    fields = ["updated_at"]
    if name is not None:
        team.name = _clean_name(name)
        fields.append("name")
    if allowed_models is not None:
        if not isinstance(allowed_models, list) or not all(isinstance(item, str) for item in allowed_models):
            raise ValidationFailed(details={"allowed_models": ["A list of model ids; empty allows every model."]})
        resolved = {ref: model_id_resolve(ref) for ref in allowed_models}
        unknown = sorted(ref for ref, model_id in resolved.items() if model_id is None)
        if unknown:
            raise ValidationFailed(details={"allowed_models": [f"Unknown model: {', '.join(unknown)}."]})
        team.allowed_models = list(dict.fromkeys(resolved.values()))
        fields.append("allowed_models")
    if members_may_train is not None:
        if not isinstance(members_may_train, bool):
            raise ValidationFailed(details={"members_may_train": ["Must be a boolean."]})
        team.members_may_train = members_may_train
        fields.append("members_may_train")
    team.save(update_fields=fields)
    return team


def team_delete(*, membership: Membership) -> None:
    """Deletes the team for everyone (owners). Its rows stay for the operators; members,
    invites and keys no longer open anything."""
    _require_owner(membership, "delete the team")
    now = timezone.now()
    Team.objects.filter(pk=membership.team_id, deleted_at__isnull=True).update(deleted_at=now, updated_at=now)
    TeamAPIKey.objects.filter(team_id=membership.team_id, revoked_at__isnull=True).update(revoked_at=now)


def _clean_role(role, *, field: str = "role") -> str:
    if role not in Role.values:
        raise ValidationFailed(details={field: [f"Use one of: {', '.join(Role.values)}."]})
    return role


def invite_create(*, membership: Membership, email: str, role: str, join_url: str) -> tuple[Invite, str]:
    """Invites ``email`` into the team with ``role`` and mails the link (on commit).

    ``join_url``: the page the link opens, with ``{token}`` where the token goes. Returns the
    invite and its token, which is kept only as a hash.
    """
    _require_manager(membership)
    role = _clean_role(role or Role.MEMBER)
    if role == Role.OWNER:
        _require_owner(membership, "invite owners")
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationFailed(details={"email": ["Enter a valid email address."]})
    team = membership.team
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise ValidationFailed(details={"email": ["This person is already a member of the team."]})
    token = secrets.token_urlsafe(32)
    invite = Invite.objects.create(
        team=team,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=membership.user,
        expires_at=timezone.now() + timedelta(days=settings.ATELIER_TEAM_INVITE_DAYS),
    )
    link = join_url.replace("{token}", token)
    context = {"team": team, "invite": invite, "inviter": membership.user, "link": link}

    def mail():
        try:
            send_mail(
                subject=render_to_string("teams/invite_subject.txt", context).strip(),
                message=render_to_string("teams/invite_message.txt", context),
                from_email=None,
                recipient_list=[email],
            )
        except OSError:
            # The invite stands and its link is in the API's answer; the mail can be sent again.
            logger.exception("The invite mail to %s could not be sent", email)

    transaction.on_commit(mail)
    return invite, token


def invite_revoke(*, membership: Membership, invite_id) -> None:
    _require_manager(membership)
    deleted, _ = Invite.objects.filter(team=membership.team, pk=invite_id, accepted_at__isnull=True).delete()
    if not deleted:
        raise NotFound("Invite not found")


def invite_accept(*, invite: Invite | None, user) -> Membership:
    """``user`` joins the invite's team with its role. The invite is for one email address: the
    person signed in with another gets a 400 saying so; an unknown, used or expired link a 404."""
    if invite is None or invite.team.deleted_at is not None:
        raise NotFound("Invite not found")
    if user.email.lower() != invite.email.lower():
        raise ValidationFailed(
            "This invite was sent to another email address",
            details="Sign in with the address the invite was sent to, then open the link again.",
        )
    with transaction.atomic():
        locked = Invite.objects.select_for_update().get(pk=invite.pk)
        existing = Membership.objects.filter(team_id=locked.team_id, user=user).select_related("team").first()
        if locked.accepted_at is not None:
            if existing is not None and locked.accepted_by_id == user.pk:
                return existing
            raise NotFound("Invite not found", details="This invite was already used.")
        if locked.expires_at <= timezone.now():
            raise NotFound("Invite not found", details="This invite has expired; ask for a new one.")
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        if existing is not None:
            return existing
        membership = Membership.objects.create(team_id=locked.team_id, user=user, role=locked.role)
        member_joined.send(sender=Membership, membership=membership)
    membership.team = invite.team
    return membership


def _caps(value, field: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed(details={field: ["A whole number, 0 or more, or null for no cap."]})
    return value


UNSET = object()


def member_update(
    *, actor: Membership, member: Membership, role=UNSET, monthly_credit_cap=UNSET, daily_generation_cap=UNSET
) -> Membership:
    """Sets a member's role and caps (owners and admins; owners alone touch owners)."""
    _require_manager(actor)
    fields = []
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=member.team_id).first()
        member = Membership.objects.select_related("user", "team").get(pk=member.pk)
        if role is not UNSET and role != member.role:
            role = _clean_role(role)
            if Role.OWNER in (role, member.role):
                _require_owner(actor, "make or unmake owners")
            if member.role == Role.OWNER and owner_count(team=member.team) <= 1:
                raise ValidationFailed(
                    "The last owner cannot be demoted", details="Make another member an owner first."
                )
            member.role = role
            fields.append("role")
        if monthly_credit_cap is not UNSET:
            member.monthly_credit_cap = _caps(monthly_credit_cap, "monthly_credit_cap")
            fields.append("monthly_credit_cap")
        if daily_generation_cap is not UNSET:
            member.daily_generation_cap = _caps(daily_generation_cap, "daily_generation_cap")
            fields.append("daily_generation_cap")
        if fields:
            member.save(update_fields=fields)
    return member


def member_remove(*, actor: Membership, member: Membership) -> None:
    """Removes a member, or lets one leave (``actor`` is ``member``). Admins remove members and
    admins; only owners remove owners; the last owner cannot leave."""
    leaving = actor.pk == member.pk
    if not leaving:
        _require_manager(actor)
        if member.role == Role.OWNER:
            _require_owner(actor, "remove owners")
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=member.team_id).first()
        member = Membership.objects.filter(pk=member.pk).select_related("team", "user").first()
        if member is None:
            return
        if member.role == Role.OWNER and owner_count(team=member.team) <= 1:
            raise ValidationFailed(
                "The last owner cannot leave", details="Make another member an owner first, or delete the team."
            )
        member.delete()
        # The keys this person made act in their name: they stop with their membership.
        TeamAPIKey.objects.filter(team=member.team, created_by=member.user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        member_left.send(sender=Membership, team=member.team, user=member.user)


def team_api_key_create(*, membership: Membership, name: str) -> tuple[TeamAPIKey, str]:
    """A key acting as the team (owners and admins); the full secret is shown only now."""
    _require_manager(membership)
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        raise ValidationFailed(details={"name": ["A name of 1 to 100 characters."]})
    prefix = secrets.token_hex(4)
    full = f"{TEAM_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    try:
        api_key = TeamAPIKey.objects.create(
            team=membership.team, created_by=membership.user, name=name, prefix=prefix, key_hash=keys.hash_key(full)
        )
    except IntegrityError:
        # Two keys drew the same eight hex digits: rare enough that asking again is the answer.
        raise ValidationFailed("Please try again") from None
    return api_key, full


def team_api_key_revoke(*, membership: Membership, key_id) -> None:
    _require_manager(membership)
    if not TeamAPIKey.objects.filter(team=membership.team, pk=key_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        raise NotFound("API key not found")


# Recording every use would turn each API read into a write; a minute is precise enough.
LAST_USED_PRECISION = timedelta(minutes=1)


def team_api_key_touch(*, api_key: TeamAPIKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
        TeamAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
