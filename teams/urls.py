from django.urls import path

from teams import api, web

urlpatterns = [
    path("api/teams", api.TeamListView.as_view(), name="teams"),
    path("api/teams/invites/<str:token>/accept", api.InviteAcceptView.as_view(), name="team-invite-accept"),
    path("api/teams/<uuid:team_id>", api.TeamDetailView.as_view(), name="team-detail"),
    path("api/teams/<uuid:team_id>/invites", api.InviteListView.as_view(), name="team-invites"),
    path("api/teams/<uuid:team_id>/invites/<uuid:invite_id>", api.InviteDetailView.as_view(), name="team-invite"),
    path("api/teams/<uuid:team_id>/members", api.MemberListView.as_view(), name="team-members"),
    path("api/teams/<uuid:team_id>/members/<uuid:user_id>", api.MemberDetailView.as_view(), name="team-member"),
    path("api/teams/<uuid:team_id>/keys", api.TeamKeyListView.as_view(), name="team-keys"),
    path("api/teams/<uuid:team_id>/keys/<uuid:key_id>", api.TeamKeyDetailView.as_view(), name="team-key"),
    # The web pages: the link in an invite mail, and the team page.
    path("teams/join/<str:token>", web.join, name="team-join"),
    path("teams/new", web.team_create, name="team-create"),
    path("teams/space", web.space_set, name="team-space"),
    path("teams/<uuid:team_id>", web.team_page, name="team-page"),
    path("teams/<uuid:team_id>/members/<uuid:user_id>", web.member_change, name="team-member-change"),
]
