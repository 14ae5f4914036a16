"""The product's URLs plus one bare endpoint, for the benchmarks only."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class BareView(APIView):
    """The cheapest authenticated DRF endpoint: the product's authentication, permission and
    throttle classes (the defaults), no body parsing, no database work beyond authentication."""

    def post(self, request):
        return Response({"ok": True})

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("bench/bare", BareView.as_view(), name="bench-bare"),
    path("", include("config.urls")),
]

handler400 = "ops.views.bad_request"
handler403 = "ops.views.permission_denied"
handler404 = "ops.views.not_found"
handler500 = "ops.views.server_error"
