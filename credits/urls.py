from django.urls import path

from credits.api import CreditsView, LedgerViewSet
from credits.team_api import TeamCreditsAdminView, TeamCreditsView
from credits.usage_api import ProfileView, UsageView

urlpatterns = [
    path("api/credits", CreditsView.as_view(), name="credits"),
    path("api/credits/ledger", LedgerViewSet.as_view({"get": "list"}), name="credits-ledger"),
    path("api/user/profile", ProfileView.as_view(), name="user-profile"),
    path("api/user/usage", UsageView.as_view(), name="user-usage"),
    path("api/teams/<uuid:team_id>/credits", TeamCreditsView.as_view(), name="team-credits"),
    path("admin/api/teams/<uuid:team_id>/credits", TeamCreditsAdminView.as_view(), name="admin-team-credits"),
]
