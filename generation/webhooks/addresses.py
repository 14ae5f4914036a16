"""Where a provider should call us back about one generation."""

from django.conf import settings

# The route of generation/webhooks/urls.py, spelled out: workers build this URL for every job
# and need not load the whole URLconf to do it.
WEBHOOK_PATH = "/api/webhooks/{provider}/{generation_id}"


def provider_webhook_url(*, provider: str, generation_id) -> str | None:
    """Our public webhook URL for this job, or None when PUBLIC_BASE_URL is not set (poll only)."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if not base:
        return None
    return base + WEBHOOK_PATH.format(provider=provider, generation_id=generation_id)
