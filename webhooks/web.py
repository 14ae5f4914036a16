"""The account page's webhook secret: rotating it (the card itself is a template tag)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from webhooks.services import user_webhook_secret_rotate


@require_POST
@login_required
def secret_rotate(request):
    user_webhook_secret_rotate(user=request.user)
    messages.success(request, "Your webhook secret was rotated; the previous one signs too for 24 hours.")
    return redirect("/account#webhook-secret")
