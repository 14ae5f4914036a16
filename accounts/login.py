"""Signing in through ``POST /auth/login``: email+password, username+password, or Google.

Failed attempts are counted per client address and per (account, address): an attacker who
fails five times locks out only their own address, never the real user at theirs.
"""

from django.conf import settings
from django.db import transaction

from accounts.google import InvalidGoogleToken, google_token_verify
from accounts.models import User
from accounts.services import user_create
from core.errors import AccountDisabled, ApplicationError, InvalidCredentials
from core.throttling import rate_limit_check, rate_limit_hit


def _ip(request) -> str:
    return request.META.get(settings.RATELIMIT_IP_META_KEY, "")


def _account_key(identifier: str):
    return lambda group, request: f"{identifier.lower()}|{_ip(request)}"


def _by_ip(group, request) -> str:
    return _ip(request)


def login_attempt_allowed(request, *, identifier: str) -> None:
    rate = settings.ATELIER_RATE_LIMITS["auth"]
    rate_limit_check(request, group="login-failed-ip", rate=rate, key=_by_ip)
    rate_limit_check(request, group="login-failed-account", rate=rate, key=_account_key(identifier))


def login_failed(request, *, identifier: str) -> None:
    rate = settings.ATELIER_RATE_LIMITS["auth"]
    # Counting may itself cross the limit; the next attempt is the one refused.
    for group, key in (("login-failed-ip", _by_ip), ("login-failed-account", _account_key(identifier))):
        try:
            rate_limit_hit(request, group=group, rate=rate, key=key)
        except ApplicationError:
            pass


def user_by_password(*, email: str | None = None, username: str | None = None, password: str) -> User:
    lookup = {"email__iexact": email} if email else {"username": username}
    user = User.objects.filter(**lookup).first()
    if user is None or not user.check_password(password):
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountDisabled()
    return user


@transaction.atomic
def user_by_google(*, credential: str) -> User:
    """The user of a verified Google ID token; a first sign-in creates the account."""
    from allauth.socialaccount.models import SocialAccount

    try:
        claims = google_token_verify(credential=credential)
    except InvalidGoogleToken as exc:
        raise InvalidCredentials(details=str(exc)) from exc
    social = SocialAccount.objects.filter(provider="google", uid=claims["sub"]).select_related("user").first()
    if social is not None:
        user = social.user
    else:
        user = User.objects.filter(email__iexact=claims["email"]).first() or user_create(
            email=claims["email"], full_name=claims.get("name", ""), avatar_url=claims.get("picture", "")
        )
        SocialAccount.objects.create(user=user, provider="google", uid=claims["sub"], extra_data=claims)
    if not user.is_active:
        raise AccountDisabled()
    return user
