from django import template

from webhooks.services import user_webhook_secret

register = template.Library()


@register.inclusion_tag("webhooks/_user_secret.html", takes_context=True)
def user_webhook_secret_card(context):
    """The account page's card: the secret that signs the user's per-request ``webhook_url``."""
    request = context["request"]
    return {"holder": user_webhook_secret(user=request.user), "csrf_token": context.get("csrf_token")}
