from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


class IsActiveUser(BasePermission):
    """Signed in (401 otherwise) with an active account (403 otherwise)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not user.is_active:
            raise PermissionDenied("This account is disabled")
        return True


class IsStaff(IsActiveUser):
    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.is_staff
