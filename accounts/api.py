from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import APIKey, User
from accounts.selectors import api_key_list
from accounts.services import api_key_create, api_key_revoke
from core.errors import NotFound
from core.schema import envelope, message_envelope


class UserSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    created_at = serializers.DateTimeField(source="date_joined", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "avatar_url", "created_at", "updated_at"]
        read_only_fields = ["id", "email", "created_at", "updated_at"]


class MeView(APIView):
    serializer_class = UserSerializer

    @extend_schema(responses=envelope("UserResponse", "user", UserSerializer))
    def get(self, request):
        return Response({"success": True, "user": UserSerializer(request.user).data})

    @extend_schema(request=UserSerializer, responses=envelope("UserResponse", "user", UserSerializer))
    def patch(self, request):
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response({"success": True, "user": serializer.data})


class APIKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = APIKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = fields


class APIKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class APIKeyWithSecretSerializer(APIKeySerializer):
    """A new key, with its secret: shown in this answer only."""

    secret = serializers.CharField()

    class Meta(APIKeySerializer.Meta):
        fields = [*APIKeySerializer.Meta.fields, "secret"]
        read_only_fields = fields


class APIKeyListView(APIView):
    serializer_class = APIKeySerializer

    @extend_schema(responses=envelope("APIKeyList", "keys", APIKeySerializer, many=True))
    def get(self, request):
        keys = api_key_list(user=request.user)
        return Response({"success": True, "keys": APIKeySerializer(keys, many=True).data})

    @extend_schema(
        request=APIKeyCreateSerializer, responses={201: envelope("APIKeyCreated", "key", APIKeyWithSecretSerializer)}
    )
    def post(self, request):
        payload = APIKeyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        api_key, secret = api_key_create(user=request.user, name=payload.validated_data["name"])
        body = {"success": True, "key": {**APIKeySerializer(api_key).data, "secret": secret}}
        return Response(body, status=status.HTTP_201_CREATED)


class APIKeyDetailView(APIView):
    @extend_schema(responses={200: message_envelope("APIKeyRevoked")})
    def delete(self, request, key_id):
        api_key = api_key_list(user=request.user).filter(pk=key_id).first()
        if api_key is None:
            raise NotFound("API key not found")
        api_key_revoke(api_key=api_key)
        return Response({"success": True, "message": "API key revoked"})
