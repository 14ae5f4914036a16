"""Team wallets over HTTP: ``GET /api/teams/{id}/credits`` for the team's members and
``POST /admin/api/teams/{id}/credits`` for staff (grants and corrections)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaff
from core.schema import envelope
from credits.team_selectors import team_member_usage, team_wallet_summary
from credits.team_wallet import TEAM_ADJUST_ACTIONS, team_wallet_admin_adjust
from teams.selectors import member_list, membership_get, team_get_live

WalletSerializer = inline_serializer(
    "TeamWallet",
    {
        "remaining": serializers.IntegerField(),
        "total": serializers.IntegerField(help_text="The plan's monthly credits (0 without a plan)."),
        "used": serializers.IntegerField(help_text="Spent from the wallet this month (debits less refunds)."),
        "last_refill": serializers.DateTimeField(allow_null=True),
        "next_refill": serializers.DateTimeField(allow_null=True),
        "plan": serializers.CharField(allow_null=True),
    },
)
MemberSpendSerializer = inline_serializer(
    "TeamMemberSpend",
    {
        "user_id": serializers.UUIDField(),
        "email": serializers.EmailField(),
        "role": serializers.CharField(),
        "credits_this_month": serializers.IntegerField(),
        "generations_today": serializers.IntegerField(),
        "monthly_credit_cap": serializers.IntegerField(allow_null=True),
        "daily_generation_cap": serializers.IntegerField(allow_null=True),
    },
)


class TeamCreditsView(APIView):
    @extend_schema(
        responses=envelope(
            "TeamCreditsResponse",
            "credits",
            WalletSerializer,
            members=serializers.ListField(child=MemberSpendSerializer),
        )
    )
    def get(self, request, team_id):
        team = membership_get(user=request.user, team_id=team_id).team
        usage = team_member_usage(team=team)
        members = [
            {
                "user_id": member.user.uuid,
                "email": member.user.email,
                "role": member.role,
                **{"credits_this_month": 0, "generations_today": 0, **usage.get(member.user_id, {})},
                "monthly_credit_cap": member.monthly_credit_cap,
                "daily_generation_cap": member.daily_generation_cap,
            }
            for member in member_list(team=team)
        ]
        return Response({"success": True, "credits": team_wallet_summary(team=team), "members": members})


class TeamCreditAdjustSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=TEAM_ADJUST_ACTIONS)
    amount = serializers.IntegerField(min_value=0, max_value=10_000_000)
    reason = serializers.CharField(max_length=300, trim_whitespace=True)


class TeamCreditsAdminView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        request=TeamCreditAdjustSerializer,
        responses=envelope(
            "TeamCreditsAdjusted",
            team_id=serializers.UUIDField(),
            old_credits=serializers.IntegerField(),
            new_credits=serializers.IntegerField(),
            action=serializers.CharField(),
            amount=serializers.IntegerField(),
            reason=serializers.CharField(),
            ledger_entry_id=serializers.IntegerField(),
        ),
    )
    def post(self, request, team_id):
        team = team_get_live(team_id=team_id)
        payload = TeamCreditAdjustSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        old, new, entry = team_wallet_admin_adjust(
            team=team, action=data["action"], amount=data["amount"], reason=data["reason"], actor=request.user
        )
        return Response(
            {
                "success": True,
                "team_id": team.pk,
                "old_credits": old,
                "new_credits": new,
                "action": data["action"],
                "amount": data["amount"],
                "reason": entry.reason,
                "ledger_entry_id": entry.pk,
            }
        )
