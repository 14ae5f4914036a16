"""``POST /admin/api/users/{id}/credits``: seed 004's credit management for staff, through the
credits app's ``credits_admin_adjust``."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.errors import NotFound
from credits.services import ADJUST_ACTIONS, credits_admin_adjust
from ops.admin_api.base import StaffView
from ops.selectors import user_by_id


class CreditAdjustSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ADJUST_ACTIONS)
    amount = serializers.IntegerField(min_value=0, max_value=10_000_000)
    reason = serializers.CharField(max_length=300, trim_whitespace=True)


class UserCreditsAdminView(StaffView):
    @extend_schema(request=CreditAdjustSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, user_id: str):
        user = user_by_id(user_id)
        if user is None:
            raise NotFound("User not found")
        payload = CreditAdjustSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        old, new, entry = credits_admin_adjust(
            user=user, action=data["action"], amount=data["amount"], reason=data["reason"], actor=request.user
        )
        return Response(
            {
                "success": True,
                "user_id": user.pk,
                "user_uuid": str(user.uuid),
                "old_credits": old,
                "new_credits": new,
                "action": data["action"],
                "amount": data["amount"],
                "reason": entry.reason,
                "ledger_entry_id": entry.pk,
                "updated_at": entry.created_at or timezone.now(),
            }
        )
