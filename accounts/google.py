"""Verifies Google ID tokens (Sign in with Google) with google-auth.

The keys come from ``GOOGLE_CERTS_URL`` (Google's published certificates by default), the
audience must be our client id and the issuer Google's.
"""

from django.conf import settings

GOOGLE_ISSUERS = {"accounts.google.com", "https://accounts.google.com"}


class InvalidGoogleToken(Exception):
    pass


def google_token_verify(*, credential: str) -> dict:
    """Returns the token's claims, or raises InvalidGoogleToken."""
    # google-auth and its crypto are loaded on the first Google sign-in, not in every process.
    from google.auth import exceptions as google_exceptions
    from google.auth.transport import requests as google_requests
    from google.oauth2 import id_token

    if not settings.GOOGLE_CLIENT_ID:
        raise InvalidGoogleToken("Google sign-in is not configured")
    try:
        claims = id_token.verify_token(
            credential,
            google_requests.Request(),
            audience=settings.GOOGLE_CLIENT_ID,
            certs_url=settings.GOOGLE_CERTS_URL,
        )
    except (ValueError, google_exceptions.GoogleAuthError) as exc:
        raise InvalidGoogleToken(str(exc)) from exc
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise InvalidGoogleToken("Wrong issuer")
    if not claims.get("email") or not claims.get("email_verified"):
        raise InvalidGoogleToken("The Google account has no verified email")
    return claims
