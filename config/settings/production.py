"""Production settings: secrets and the database must come from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import database_settings, env

DEBUG = False

try:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
    DATABASES = {"default": database_settings(env.db("DATABASE_URL"))}
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(f"Production needs DJANGO_SECRET_KEY and DATABASE_URL: {exc}") from exc


SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind TLS (the default): plain-HTTP requests are redirected to HTTPS and browsers are told,
# through HSTS, to use HTTPS only. DJANGO_SECURE_SSL_REDIRECT=false where a proxy redirects
# itself; DJANGO_SECURE_HSTS_SECONDS=0 turns HSTS off (e.g. while first trying TLS out).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe /health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Consent to the browsers' preload list (as cookiecutter-django has it); nothing is submitted.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
