"""``GET /admin/api/users``: users filtered by role, status and a search, with their figures."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from core.pagination import PageLimitPagination
from ops.admin_api.base import StaffView
from ops.selectors import ROLES, STATUSES, admin_user_figures, admin_user_list, admin_user_row


class UserPagination(PageLimitPagination):
    default_limit = 50
    max_limit = 200


class UserQuerySerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES, required=False)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    team = serializers.UUIDField(required=False, help_text="Only the members of this team")


class UsersView(StaffView):
    results_key = "users"
    pagination_class = UserPagination

    @extend_schema(
        summary="Users with their plan, credits and figures (seed 004)",
        parameters=[
            OpenApiParameter("page", int),
            OpenApiParameter("limit", int),
            OpenApiParameter("role", str, enum=list(ROLES)),
            OpenApiParameter("status", str, enum=list(STATUSES)),
            OpenApiParameter("search", str),
            OpenApiParameter("team", OpenApiTypes.UUID, description="Only the members of this team"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = UserQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)

        def rows(page):
            figures = admin_user_figures(user_ids=[user.pk for user in page])
            return [admin_user_row(user, figures[user.pk]) for user in page]

        return self.paginated(admin_user_list(**query.validated_data), rows)
