from django.urls import path

from credits.api import CreditsView, LedgerViewSet
from credits.usage_api import ProfileView, UsageView

urlpatterns = [
    path("api/credits", CreditsView.as_view(), name="credits"),
    path("api/credits/ledger", LedgerViewSet.as_view({"get": "list"}), name="credits-ledger"),
    path("api/user/profile", ProfileView.as_view(), name="user-profile"),
    path("api/user/usage", UsageView.as_view(), name="user-usage"),
]
