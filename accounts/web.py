"""The account page: the profile and API keys, and the parts apps above add (credits: plan,
balance and ledger, limits, usage by day; accounts/account_page.py)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.account_page import account_page_parts_context
from accounts.selectors import PRIVACY_PREFERENCES, api_key_list, user_privacy_preferences
from accounts.services import api_key_create, api_key_revoke, user_preferences_update, user_profile_update


class ProfileForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=200, required=False)


class APIKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=100, help_text="Where you will use it, e.g. “laptop script”.")


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _keys_context(request, *, form=None, new_key=None, new_secret=None) -> dict:
    return {
        "api_keys": api_key_list(user=request.user),
        "key_form": form or APIKeyForm(),
        "new_key": new_key,
        "new_secret": new_secret,
        "api_base": request.build_absolute_uri("/").rstrip("/"),
    }


def _page(request, **keys_context):
    user = request.user
    context = {
        **account_page_parts_context(user=user),
        "profile_form": ProfileForm(initial={"full_name": user.full_name}),
        "privacy": user_privacy_preferences(user=user),
        **_keys_context(request, **keys_context),
    }
    return render(request, "accounts/account.html", context)


def _keys_answer(request, **keys_context):
    if _is_htmx(request):
        return render(request, "accounts/_api_keys.html", _keys_context(request, **keys_context))
    return _page(request, **keys_context)


@require_GET
@login_required
def account(request):
    return _page(request)


@require_POST
@login_required
def profile_update(request):
    form = ProfileForm(request.POST)
    if form.is_valid():
        user_profile_update(user=request.user, full_name=form.cleaned_data["full_name"])
        messages.success(request, "Profile saved.")
    else:
        messages.error(request, "The profile was not saved: the name is too long.")
    return redirect("account")


@require_POST
@login_required
def privacy_update(request):
    """The privacy card's checkboxes: a box left unticked is sent as nothing, which means false."""
    choices = {name: request.POST.get(name) == "on" for name in PRIVACY_PREFERENCES}
    # No art style is among these preferences, so no style is needed to check them.
    user_preferences_update(user=request.user, preferences=choices, styles=())
    messages.success(request, "Privacy choices saved.")
    return redirect("account")


@require_POST
@login_required
def key_create(request):
    form = APIKeyForm(request.POST)
    if not form.is_valid():
        return _keys_answer(request, form=form)
    api_key, secret = api_key_create(user=request.user, name=form.cleaned_data["name"])
    # The secret is in this answer only: it is never stored, so it cannot be shown again.
    return _keys_answer(request, new_key=api_key, new_secret=secret)


@require_POST
@login_required
def key_revoke(request, key_id):
    api_key = api_key_list(user=request.user).filter(pk=key_id).first()
    if api_key is None:
        raise Http404("API key not found")
    api_key_revoke(api_key=api_key)
    if _is_htmx(request):
        return _keys_answer(request)
    messages.success(request, f"Revoked “{api_key.name}”.")
    return redirect("account")
