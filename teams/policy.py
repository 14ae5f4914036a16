"""A team's policy: which models its members may use and whether members may train.

The teams app sits below the catalog, so the catalog hands it a way to name a model
(``model_resolver_set``, from catalog/receivers.py): an alias or id in, the model's id out.
The checks themselves are called by the one submission use case and by training.
"""

from collections.abc import Callable

from core.errors import NotFound
from teams.errors import TeamPermissionDenied, TeamPolicyRefused
from teams.models import Membership, Team
from teams.selectors import membership_find

_resolve: Callable[[str], str | None] | None = None


def model_resolver_set(resolver: Callable[[str], str | None]) -> None:
    global _resolve
    _resolve = resolver


def model_id_resolve(ref: str) -> str | None:
    """The model id ``ref`` names (an alias too), or None when there is no such model."""
    if _resolve is None:
        return ref
    return _resolve(ref)


def team_model_check(*, team: Team | None, model_id: str) -> None:
    """Refuses (400, nothing charged) a model the team has not allowed; personal work passes."""
    if team is None or not team.allowed_models or model_id in team.allowed_models:
        return
    raise TeamPolicyRefused(
        "This model is not allowed in this team",
        details=(
            f"The team “{team.name}” allows only: {', '.join(team.allowed_models)}. "
            "Ask an owner or admin of the team to allow the model."
        ),
        team=str(team.pk),
        allowed_models=list(team.allowed_models),
    )


def team_training_check(*, membership: Membership | None) -> None:
    """Refuses (400, nothing charged) training by a plain member where the team does not allow it."""
    if membership is None or membership.manages or membership.team.members_may_train:
        return
    raise TeamPolicyRefused(
        "Members of this team may not train",
        details=f"In the team “{membership.team.name}” only owners and admins may train LoRAs.",
        team=str(membership.team_id),
    )


def team_object_delete_check(*, user, team_id, creator_id) -> None:
    """A team's object is deleted (or cancelled) by its creator or the team's owners and admins;
    another member gets 403. Personal objects are their owner's (the caller found it already)."""
    if team_id is None or creator_id == user.pk:
        return
    membership = membership_find(user=user, team_id=team_id)
    if membership is None:
        raise NotFound()
    if not membership.manages:
        raise TeamPermissionDenied("Only its creator and the team's owners and admins may do that")
