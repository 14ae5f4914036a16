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


def team_header_in_schema(result, generator, request, public):
    """A postprocessing hook: every operation of a view that acts as a team lists the
    ``X-Atelier-Team`` header, and only those operations offer the team key."""
    header = {
        "in": "header",
        "name": TEAM_HEADER,
        "required": False,
        "schema": {"type": "string", "format": "uuid"},
        "description": TEAM_PARAMETER.description,
    }
    acting: set[tuple[str, str]] = set()
    for path, _regex, method, callback in generator.endpoints or []:
        if getattr(getattr(callback, "cls", None), "acts_as_team", False):
            view = generator.create_view(callback, method)
            acting.add((generator.coerce_path(path, method, view), method.lower()))
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if (path, method) in acting:
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("in") == "header" and p.get("name") == TEAM_HEADER for p in parameters):
                    parameters.append(header)
            elif "security" in operation:
                operation["security"] = [item for item in operation["security"] if "teamKey" not in item]
    return result
