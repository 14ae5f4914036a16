"""allauth's sign-in page with the JSON login's rate-limit answer, and seed 001's logout."""

from allauth.account.views import LoginView as AllauthLoginView
from allauth.core.internal.ratelimit import parse_rates
from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods


def _login_retry_after() -> int:
    """The longest window of allauth's failed-login limit, in seconds: when the client may try again."""
    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS.get("login_failed"))
    return int(max((rate.duration for rate in rates), default=60))


class LoginPage(AllauthLoginView):
    """allauth shows "too many failed attempts" as a form error with 200; this answers it with
    429 and Retry-After, as ``POST /auth/login`` does, still showing the form and its message."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        codes = {error.code for errors in form.errors.as_data().values() for error in errors}
        if "too_many_login_attempts" in codes:
            response.status_code = 429
            response["Retry-After"] = str(_login_retry_after())
        return response


@require_http_methods(["GET", "POST"])
def logout_view(request):
    """Seed 001's ``/auth/logout``. GET only asks (another site could make a browser GET it);
    the POST of its form, carrying the CSRF token, signs out."""
    if request.method == "GET":
        return render(request, "account/logout.html")
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
