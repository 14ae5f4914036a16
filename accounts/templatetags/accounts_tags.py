from django import template
from django.conf import settings

register = template.Library()

# Backends that keep mail on this machine: nobody receives what they "send".
UNDELIVERED_BACKENDS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
)


@register.simple_tag
def mail_is_delivered() -> bool:
    """False while mail goes to the console (no EMAIL_URL), so pages do not promise an email."""
    return settings.EMAIL_BACKEND not in UNDELIVERED_BACKENDS
