from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.db.models import QuerySet

from accounts.models import APIKey, User
from accounts.services import api_key_revoke


@dataclass(frozen=True)
class UserListColumn:
    """A column an app above accounts adds to the admin's user list from its own ``admin.py``
    (credits: plan, balance, credits used; gallery: images), so that this app imports none of them.

    ``value`` is the column's callable (``@admin.display`` gives its title and ordering);
    ``annotate`` adds to the list's queryset what it reads; ``list_filter`` its filters."""

    value: Callable
    annotate: Callable[[QuerySet], QuerySet] | None = None
    list_filter: tuple = ()


# name -> column, in the order the apps' admin modules added them (INSTALLED_APPS order).
_user_list_columns: dict[str, UserListColumn] = {}


def user_list_column_add(*, name: str, column: UserListColumn) -> None:
    _user_list_columns[name] = column


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["email", "full_name", "last_login", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]
    search_fields = ["email", "username", "full_name"]
    ordering = ["-date_joined"]
    # An avatar address typed without a scheme is read as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ["full_name", "avatar_url", "preferences"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "username", "password1", "password2"]})]

    # The other apps' columns come after the user's name, their filters before the join date.
    def get_list_display(self, request):
        added = [column.value for column in _user_list_columns.values()]
        return [*self.list_display[:2], *added, *self.list_display[2:]]

    def get_list_filter(self, request):
        added = [name for column in _user_list_columns.values() for name in column.list_filter]
        return [*self.list_filter[:3], *added, *self.list_filter[3:]]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for column in _user_list_columns.values():
            if column.annotate is not None:
                queryset = column.annotate(queryset)
        return queryset


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["created_at", "last_used_at"]
    search_fields = ["name", "prefix", "user__email"]
    readonly_fields = ["prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        # A key's secret is shown once to its owner; keys are made through the API or the account page.
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
