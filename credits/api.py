from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import PageLimitPagination
from core.schema import envelope
from credits.models import LedgerEntry
from credits.selectors import credits_summary, ledger_list


class CreditsView(APIView):
    @extend_schema(
        responses=envelope(
            "CreditsResponse",
            "credits",
            inline_serializer(
                "Credits",
                {
                    "remaining": serializers.IntegerField(),
                    "total": serializers.IntegerField(),
                    "used": serializers.IntegerField(help_text="Spent this month (debits less refunds)."),
                    "last_refill": serializers.DateTimeField(allow_null=True),
                    "next_refill": serializers.DateTimeField(),
                    "plan": serializers.CharField(),
                },
            ),
        )
    )
    def get(self, request):
        return Response({"success": True, "credits": credits_summary(user=request.user)})


class LedgerEntrySerializer(serializers.ModelSerializer):
    generation_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balance_after", "reason", "generation_id", "period", "created_at"]
        read_only_fields = fields


class LedgerViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LedgerEntrySerializer
    pagination_class = PageLimitPagination
    results_key = "entries"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LedgerEntry.objects.none()
        return ledger_list(user=self.request.user)
