"""The team header in the OpenAPI schema: views that act as a team list it among their parameters."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter

from teams.acting import TEAM_HEADER

TEAM_PARAMETER = OpenApiParameter(
    TEAM_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Work as this team (its id) instead of in your personal space: objects are made in and listed "
        "from the team, paid from its wallet within your caps. You must be a member (404 otherwise). "
        "A team API key (`atlteam_…`) acts as its team without it; a browser session uses the space "
        "chosen in the header bar."
    ),
)


class TeamAPIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "teams.authentication.TeamAPIKeyAuthentication"
    name = "teamKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A team API key, `atlteam_<prefix>_<secret>`: acts as its team on the routes that take X-Atelier-Team"
            ),
        }
