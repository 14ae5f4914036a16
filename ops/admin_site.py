"""The Django admin as Atelier's: branded, with the operations dashboard on its index and
without two sections of the same name (allauth's "Accounts" beside ours)."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

# Sections whose default names clash or say little, by app label.
SECTION_NAMES = {
    "accounts": "Users and API keys",
    "account": "Sign-in email addresses",
    "socialaccount": "Social sign-in",
}


class AtelierAdminSite(admin.AdminSite):
    site_header = "Atelier administration"
    site_title = "Atelier admin"
    index_title = "Operations dashboard"
    index_template = "admin/atelier_index.html"

    def index(self, request, extra_context=None):
        # Imported on first use, not for a loop: INSTALLED_APPS names this module's AdminConfig,
        # so it is loaded while the app registry fills, before any models module may be.
        from ops.dashboard.data import dashboard_context

        return super().index(request, extra_context={**dashboard_context(), **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        for app in apps:
            app["name"] = SECTION_NAMES.get(app["app_label"], app["name"])
        return apps


class AtelierAdminConfig(AdminConfig):
    default_site = "ops.admin_site.AtelierAdminSite"
