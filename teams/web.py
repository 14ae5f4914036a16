"""The team pages: the link in an invite mail, the list of one's teams and the team page."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError, NotFound
from teams import services
from teams.acting import active_space_set
from teams.models import Role
from teams.selectors import invite_find, member_get, member_list, membership_find, team_invites_for
from teams.team_page import team_page_parts_context


@require_http_methods(["GET", "POST"])
def join(request, token):
    """Opens an invite: a visitor signs up (or signs in) first and comes back here; a signed-in
    person sees the team and joins with one button."""
    invite = invite_find(token=token)
    usable = invite is not None and invite.accepted_at is None and invite.expires_at > timezone.now()
    if invite is None or invite.team.deleted_at is not None:
        raise Http404("Invite not found")
    if not request.user.is_authenticated:
        back = urlencode({"next": request.get_full_path()})
        # allauth's sign-up page offers "sign in" with the same next.
        return redirect(f"{reverse('account_signup')}?{back}")
    if request.method == "POST":
        try:
            membership = services.invite_accept(invite=invite, user=request.user)
        except ApplicationError as error:
            messages.error(request, f"{error.message}. {error.details or ''}".strip())
            return redirect("team-join", token=token)
        messages.success(request, f"You joined {membership.team.name}.")
        return redirect("team-page", team_id=membership.team_id)
    return render(request, "teams/join.html", {"invite": invite, "usable": usable})


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.MEMBER)


def _membership(request, team_id):
    membership = membership_find(user=request.user, team_id=team_id)
    if membership is None:
        raise Http404("Team not found")
    return membership


@require_http_methods(["GET", "POST"])
@login_required
def team_page(request, team_id):
    membership = _membership(request, team_id)
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                _, token = services.invite_create(
                    membership=membership,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    join_url=request.build_absolute_uri("/teams/join/") + "{token}",
                )
            except ApplicationError as error:
                messages.error(request, _words(error))
            else:
                messages.success(request, f"Invite sent to {form.cleaned_data['email']}.")
            return redirect("team-page", team_id=team_id)
    team = membership.team
    context = {
        "team": team,
        "membership": membership,
        "members": member_list(team=team),
        "invites": team_invites_for(membership=membership),
        "invite_form": InviteForm(),
        "roles": Role.choices,
        **team_page_parts_context(membership=membership),
    }
    return render(request, "teams/team.html", context)


def _words(error: ApplicationError) -> str:
    details = error.details
    if isinstance(details, dict):
        details = " ".join(
            " ".join(map(str, value)) if isinstance(value, list) else str(value) for value in details.values()
        )
    return f"{error.message}. {details}" if details else error.message


@require_POST
@login_required
def member_change(request, team_id, user_id):
    """The team page's forms for a member: role and caps, or removal."""
    membership = _membership(request, team_id)
    try:
        member = member_get(team=membership.team, user_id=user_id)
    except NotFound:
        raise Http404("Member not found") from None
    try:
        if request.POST.get("remove"):
            services.member_remove(actor=membership, member=member)
            if member.pk == membership.pk:
                messages.success(request, f"You left {membership.team.name}.")
                return redirect("account")
            messages.success(request, f"{member.user.email} was removed.")
        else:
            changes = {}
            if request.POST.get("role"):
                changes["role"] = request.POST["role"]
            for cap in ("monthly_credit_cap", "daily_generation_cap"):
                if cap in request.POST:
                    value = request.POST[cap].strip()
                    if value and not value.isdigit():
                        messages.error(request, "A cap is a whole number, 0 or more; leave it empty for no cap.")
                        return redirect("team-page", team_id=team_id)
                    changes[cap] = int(value) if value else None
            services.member_update(actor=membership, member=member, **changes)
            messages.success(request, f"Saved {member.user.email}.")
    except ApplicationError as error:
        messages.error(request, _words(error))
    return redirect("team-page", team_id=team_id)


@require_POST
@login_required
def team_create(request):
    try:
        membership = services.team_create(user=request.user, name=request.POST.get("name", ""))
    except ApplicationError as error:
        messages.error(request, _words(error))
        return redirect("account")
    return redirect("team-page", team_id=membership.team_id)


@require_POST
@login_required
def space_set(request):
    """The header bar's space menu: the browser works in the team chosen, or personally."""
    team_id = request.POST.get("team") or None
    try:
        membership = active_space_set(request, team_id=team_id)
    except NotFound:
        raise Http404("Team not found") from None
    messages.success(
        request, f"Working in {membership.team.name}." if membership else "Working in your personal space."
    )
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)
