"""The one base of the staff API's views: staff only (a signed-in non-staff user gets 403),
counted in the ``admin`` rate-limit group, lists paginated with ``?page=&limit=``."""

from django.db.models import QuerySet
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaff
from core.pagination import PageLimitPagination


class StaffView(APIView):
    permission_classes = [IsStaff]
    ratelimit_group = "admin"
    # Read by the schema too, which documents the paginated envelope of the list views.
    pagination_class = PageLimitPagination
    # The key the paginated list is answered under (``users``, ``webhooks``, …).
    results_key = "results"

    def paginated(self, queryset: QuerySet, rows) -> Response:
        """One page of ``queryset``, each item turned into its answer by ``rows(page)``."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(rows(page))
