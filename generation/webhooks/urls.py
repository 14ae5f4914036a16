from django.urls import path

from generation.webhooks.views import ProviderWebhookView

urlpatterns = [
    path(
        "api/webhooks/<str:provider>/<uuid:generation_id>",
        ProviderWebhookView.as_view(),
        name="provider-webhook",
    ),
]
