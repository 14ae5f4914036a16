"""Team API keys (``Authorization: Bearer atlteam_…``). Listed first in DRF's authentication
classes: a team key is answered here, any other credential by the accounts app's classes."""

from rest_framework import authentication, exceptions

from teams.selectors import TEAM_KEY_PREFIX, membership_find, team_api_key_find_active
from teams.services import team_api_key_touch


def _acts_as_team(request) -> bool:
    view = (getattr(request, "parser_context", None) or {}).get("view")
    return bool(getattr(view, "acts_as_team", False))


class TeamAPIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if len(header) != 2 or header[0].lower() != "bearer" or not header[1].startswith(f"{TEAM_KEY_PREFIX}_"):
            return None
        api_key = team_api_key_find_active(full_key=header[1])
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token")
        maker = api_key.created_by
        if not maker.is_active:
            raise exceptions.PermissionDenied("This account is disabled")
        membership = membership_find(user=maker, team_id=api_key.team_id)
        if membership is None or not membership.manages:
            # Its maker left the team or is no longer an owner or admin: the key acts for nobody.
            raise exceptions.AuthenticationFailed("This team key no longer works: its maker no longer manages the team")
        if not _acts_as_team(request):
            raise exceptions.PermissionDenied(
                "Team API keys work only on the routes that act as a team; use a personal key here"
            )
        team_api_key_touch(api_key=api_key)
        return maker, api_key

    def authenticate_header(self, request):
        return self.keyword
