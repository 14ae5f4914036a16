"""The teams API: teams, invites, members and their caps, team keys (DESIGN.md §4, teams).

Someone outside a team gets 404 on every route of it; a member asking for what only owners or
admins may do gets 403.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import envelope, message_envelope
from teams import services
from teams.models import Invite, Membership, Role, TeamAPIKey
from teams.selectors import (
    invite_find,
    member_get,
    member_list,
    membership_get,
    team_invites_for,
    team_keys_for,
    team_list_for_user,
)


class TeamSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, help_text="The caller's role in the team")
    allowed_models = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Model ids members may use; empty = every model"
    )
    members_may_train = serializers.BooleanField(required=False)
    created_at = serializers.DateTimeField(read_only=True)


def team_data(membership: Membership) -> dict:
    team = membership.team
    team.role = membership.role
    return TeamSerializer(team).data


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class TeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    allowed_models = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    members_may_train = serializers.BooleanField(required=False)


TeamEnvelope = envelope("TeamResponse", "team", TeamSerializer)


class TeamListView(APIView):
    serializer_class = TeamSerializer

    @extend_schema(operation_id="api_teams_list", responses=envelope("TeamList", "teams", TeamSerializer, many=True))
    def get(self, request):
        teams = team_list_for_user(user=request.user)
        return Response({"success": True, "teams": TeamSerializer(teams, many=True).data})

    @extend_schema(request=TeamCreateSerializer, responses={201: TeamEnvelope})
    def post(self, request):
        payload = TeamCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = services.team_create(user=request.user, name=payload.validated_data["name"])
        return Response({"success": True, "team": team_data(membership)}, status=status.HTTP_201_CREATED)


class TeamDetailView(APIView):
    serializer_class = TeamSerializer

    @extend_schema(responses=TeamEnvelope)
    def get(self, request, team_id):
        return Response({"success": True, "team": team_data(membership_get(user=request.user, team_id=team_id))})

    @extend_schema(request=TeamUpdateSerializer, responses=TeamEnvelope)
    def patch(self, request, team_id):
        membership = membership_get(user=request.user, team_id=team_id)
        payload = TeamUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.team_update(membership=membership, **payload.validated_data)
        return Response({"success": True, "team": team_data(membership)})

    @extend_schema(responses={200: message_envelope("TeamDeleted")})
    def delete(self, request, team_id):
        services.team_delete(membership=membership_get(user=request.user, team_id=team_id))
        return Response({"success": True, "message": "Team deleted"})


class InviteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invite
        fields = ["id", "email", "role", "created_at", "expires_at"]
        read_only_fields = fields


class InviteCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


class InviteWithTokenSerializer(InviteSerializer):
    token = serializers.CharField(help_text="What the mailed link carries; shown in this answer only")

    class Meta(InviteSerializer.Meta):
        fields = [*InviteSerializer.Meta.fields, "token"]
        read_only_fields = fields


def join_url(request) -> str:
    return request.build_absolute_uri("/teams/join/") + "{token}"


class InviteListView(APIView):
    serializer_class = InviteSerializer

    @extend_schema(responses=envelope("TeamInviteList", "invites", InviteSerializer, many=True))
    def get(self, request, team_id):
        invites = team_invites_for(membership=membership_get(user=request.user, team_id=team_id))
        return Response({"success": True, "invites": InviteSerializer(invites, many=True).data})

    @extend_schema(
        request=InviteCreateSerializer, responses={201: envelope("TeamInvite", "invite", InviteWithTokenSerializer)}
    )
    def post(self, request, team_id):
        membership = membership_get(user=request.user, team_id=team_id)
        payload = InviteCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invite, token = services.invite_create(
            membership=membership,
            email=payload.validated_data["email"],
            role=payload.validated_data["role"],
            join_url=join_url(request),
        )
        body = {"success": True, "invite": {**InviteSerializer(invite).data, "token": token}}
        return Response(body, status=status.HTTP_201_CREATED)


class InviteDetailView(APIView):
    @extend_schema(responses={200: message_envelope("TeamInviteRevoked")})
    def delete(self, request, team_id, invite_id):
        services.invite_revoke(membership=membership_get(user=request.user, team_id=team_id), invite_id=invite_id)
        return Response({"success": True, "message": "Invite revoked"})


class InviteAcceptView(APIView):
    @extend_schema(request=None, responses=TeamEnvelope)
    def post(self, request, token):
        membership = services.invite_accept(invite=invite_find(token=token), user=request.user)
        return Response({"success": True, "team": team_data(membership)})


class MemberSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(source="user.uuid", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "email", "full_name", "role", "monthly_credit_cap", "daily_generation_cap", "joined_at"]
        read_only_fields = fields


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    monthly_credit_cap = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    daily_generation_cap = serializers.IntegerField(min_value=0, allow_null=True, required=False)


class MemberListView(APIView):
    serializer_class = MemberSerializer

    @extend_schema(responses=envelope("TeamMemberList", "members", MemberSerializer, many=True))
    def get(self, request, team_id):
        membership = membership_get(user=request.user, team_id=team_id)
        members = member_list(team=membership.team)
        return Response({"success": True, "members": MemberSerializer(members, many=True).data})


class MemberDetailView(APIView):
    serializer_class = MemberSerializer

    @extend_schema(request=MemberUpdateSerializer, responses=envelope("TeamMember", "member", MemberSerializer))
    def patch(self, request, team_id, user_id):
        membership = membership_get(user=request.user, team_id=team_id)
        member = member_get(team=membership.team, user_id=user_id)
        payload = MemberUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        member = services.member_update(actor=membership, member=member, **payload.validated_data)
        return Response({"success": True, "member": MemberSerializer(member).data})

    @extend_schema(responses={200: message_envelope("TeamMemberRemoved")})
    def delete(self, request, team_id, user_id):
        membership = membership_get(user=request.user, team_id=team_id)
        member = member_get(team=membership.team, user_id=user_id)
        services.member_remove(actor=membership, member=member)
        left = member.pk == membership.pk
        return Response({"success": True, "message": "You left the team" if left else "Member removed"})


class TeamKeySerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True)

    class Meta:
        model = TeamAPIKey
        fields = ["id", "name", "prefix", "created_by", "created_at", "last_used_at"]
        read_only_fields = fields


class TeamKeyWithSecretSerializer(TeamKeySerializer):
    secret = serializers.CharField()

    class Meta(TeamKeySerializer.Meta):
        fields = [*TeamKeySerializer.Meta.fields, "secret"]
        read_only_fields = fields


class TeamKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class TeamKeyListView(APIView):
    serializer_class = TeamKeySerializer

    @extend_schema(responses=envelope("TeamKeyList", "keys", TeamKeySerializer, many=True))
    def get(self, request, team_id):
        keys = team_keys_for(membership=membership_get(user=request.user, team_id=team_id))
        return Response({"success": True, "keys": TeamKeySerializer(keys, many=True).data})

    @extend_schema(
        request=TeamKeyCreateSerializer, responses={201: envelope("TeamKeyCreated", "key", TeamKeyWithSecretSerializer)}
    )
    def post(self, request, team_id):
        membership = membership_get(user=request.user, team_id=team_id)
        payload = TeamKeyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        api_key, secret = services.team_api_key_create(membership=membership, name=payload.validated_data["name"])
        body = {"success": True, "key": {**TeamKeySerializer(api_key).data, "secret": secret}}
        return Response(body, status=status.HTTP_201_CREATED)


class TeamKeyDetailView(APIView):
    @extend_schema(responses={200: message_envelope("TeamKeyRevoked")})
    def delete(self, request, team_id, key_id):
        services.team_api_key_revoke(membership=membership_get(user=request.user, team_id=team_id), key_id=key_id)
        return Response({"success": True, "message": "API key revoked"})
