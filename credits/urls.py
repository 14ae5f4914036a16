from django.urls import path

from credits.api import CreditsView, LedgerViewSet

urlpatterns = [
    path("api/credits", CreditsView.as_view(), name="credits"),
    path("api/credits/ledger", LedgerViewSet.as_view({"get": "list"}), name="credits-ledger"),
]
