"""What a team refuses, in the project's envelope (core.errors)."""

from core.errors import ApplicationError, ErrorType


class TeamPermissionDenied(ApplicationError):
    """A member asked for what only owners or admins may do. (Someone outside the team gets a
    404 instead: a team's existence is not told to strangers.)"""

    http_status = 403
    type = ErrorType.PERMISSION_DENIED
    default_message = "Your role in this team does not allow that"


class TeamPolicyRefused(ApplicationError):
    """The team's policy does not allow the work (a model not on its list, training by members):
    a 400 with the reason, and nothing is charged."""

    default_message = "The team's policy does not allow this"
