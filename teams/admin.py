from collections.abc import Callable

from django.contrib import admin

from teams.models import Invite, Membership, Team, TeamAPIKey

# Columns the apps above add to the team list (credits: the wallet and its ledger), filled from
# their admin modules as accounts.admin's user list is.
_columns: dict[str, Callable] = {}


def team_list_column_add(*, name: str, column: Callable) -> None:
    """Adds (or replaces) a column; ``column(team)`` is an ``admin.display`` function."""
    _columns[name] = column


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "monthly_credit_cap", "daily_generation_cap", "joined_at"]
    readonly_fields = ["joined_at"]
    raw_id_fields = ["user"]


class InviteInline(admin.TabularInline):
    model = Invite
    extra = 0
    fields = ["email", "role", "invited_by", "created_at", "expires_at", "accepted_at", "accepted_by"]
    readonly_fields = fields
    can_delete = True

    def has_add_permission(self, request, obj=None) -> bool:
        # An invite is made where its token can be shown and mailed: the team page or the API.
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "member_count", "members_may_train", "created_at", "deleted_at"]
    list_filter = ["members_may_train", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "id", "memberships__user__email"]
    readonly_fields = ["id", "created_by", "created_at", "updated_at"]
    inlines = [MembershipInline, InviteInline]

    @admin.display(description="Members")
    def member_count(self, team) -> int:
        return team.memberships.count()

    def get_list_display(self, request):
        return [*super().get_list_display(request), *_columns.values()]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *_columns.values()]


@admin.register(TeamAPIKey)
class TeamAPIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "team__name"]
    readonly_fields = ["team", "created_by", "name", "prefix", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request) -> bool:
        return False
