"""Which space a request works in: the caller's personal space, or one of their teams.

- a team API key acts as its team (an ``X-Atelier-Team`` naming another team is a 404);
- a personal key or a session with ``X-Atelier-Team: <team id>`` acts as that team, when the
  caller is a member (404 otherwise, never 403: a stranger learns nothing of the team);
- a browser session without the header acts in the space chosen in the header bar (kept in the
  session; a team the person has left falls back to the personal space).

Only views that say so (``acts_as_team = True``) act as a team; others ignore the header (the
seed routes, for instance, work in the personal space), and refuse a team key, which would
otherwise act in its maker's personal space (teams/authentication.py).
"""

from core.errors import NotFound
from teams.models import Membership, TeamAPIKey
from teams.selectors import membership_find

TEAM_HEADER = "X-Atelier-Team"
SESSION_KEY = "atelier_team"

_MISSING = object()


def acting_membership(request) -> Membership | None:
    """The caller's membership of the team the request acts as, or None for personal work.

    ``request`` is DRF's (after authentication) or Django's (the web pages: the session's space).
    Raises NotFound for a team the caller does not belong to.
    """
    cached = getattr(request, "_atelier_membership", _MISSING)
    if cached is not _MISSING:
        return cached
    membership = _resolve(request)
    request._atelier_membership = membership
    return membership


def acting_team(request):
    membership = acting_membership(request)
    return membership.team if membership is not None else None


def _resolve(request) -> Membership | None:
    user = request.user
    header = (request.headers.get(TEAM_HEADER) or "").strip()
    auth = getattr(request, "auth", None)
    if isinstance(auth, TeamAPIKey):
        if header and header != str(auth.team_id):
            raise NotFound("Team not found")
        return membership_find(user=user, team_id=auth.team_id)
    if header:
        membership = membership_find(user=user, team_id=header)
        if membership is None:
            raise NotFound("Team not found", details=f"You are not a member of the team {TEAM_HEADER} names.")
        return membership
    session = getattr(request, "session", None)
    if auth is None and session is not None and session.get(SESSION_KEY):
        membership = membership_find(user=user, team_id=session[SESSION_KEY])
        if membership is None:
            session.pop(SESSION_KEY, None)
        return membership
    return None


def active_space_set(request, *, team_id) -> Membership | None:
    """Keeps the space a browser works in (None: personal); NotFound for a team not one's own."""
    if team_id is None:
        request.session.pop(SESSION_KEY, None)
        return None
    membership = membership_find(user=request.user, team_id=team_id)
    if membership is None:
        raise NotFound("Team not found")
    request.session[SESSION_KEY] = str(membership.team_id)
    return membership


def acting_key_team(request):
    """The team of the team API key the request came with, or None (any other credential)."""
    auth = getattr(request, "auth", None)
    return auth.team if isinstance(auth, TeamAPIKey) else None
