"""What every ``/sdapi/v1`` route shares: its authentication, its error shape and its models."""

import base64
import binascii
import hashlib

from rest_framework import authentication, exceptions
from rest_framework.views import APIView

from accounts.authentication import APIKeyAuthentication, api_key_authenticate
from accounts.services import user_client_option
from catalog.models import AIModel
from catalog.selectors import model_get, model_list
from core.errors import ValidationFailed
from core.exception_handler import envelope_exception_handler
from generation.models import Generation, Status
from generation.selectors import generation_list
from legacy.schema import compat_schema

CLIENT = "automatic1111"
CHECKPOINT_OPTION = "sd_model_checkpoint"


class BasicAPIKeyAuthentication(authentication.BaseAuthentication):
    """HTTP Basic with an API key as the password (any user name): what A1111's ``--api-auth``
    clients send (``webuiapi``'s ``set_auth``, Open WebUI's "user:password" setting)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header")
        try:
            credentials = base64.b64decode(header[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed("Invalid Authorization header") from None
        _, _, secret = credentials.partition(":")
        return api_key_authenticate(secret)

    def authenticate_header(self, request):
        return 'Basic realm="sdapi"'


# The canonical parameters a refusal may name, by the names A1111's clients sent them under.
A1111_NAMES = {
    "image": "init_images",
    "strength": "denoising_strength",
    "num_images": "batch_size",
    "num_inference_steps": "steps",
    "guidance_scale": "cfg_scale",
    "model": CHECKPOINT_OPTION,
}


ENVELOPE_KEYS = frozenset({"success", "error", "details", "type", "code", "request_id", "timestamp"})


def _text(errors) -> str:
    if isinstance(errors, dict):
        return " ".join(f"{field}: {_text(value)}" for field, value in errors.items())
    if isinstance(errors, list):
        return "; ".join(_text(error) for error in errors)
    return str(errors)


def _detail(message: str, details) -> str:
    """The error in one readable sentence, as A1111's clients show ``detail``."""
    return f"{message}: {_text(details)}" if details else message


def a1111_exception_handler(exc, context):
    """The canonical handler's status and headers, in A1111's error shape; a request that fails
    validation is a 422, as A1111 (FastAPI) answers it."""
    response = envelope_exception_handler(exc, context)
    body = response.data
    details = body.get("details")
    names = getattr(context.get("view"), "field_names", A1111_NAMES)
    if isinstance(details, dict):
        details = {names.get(field, field): errors for field, errors in details.items()}
    if response.status_code == 400:
        response.status_code = 422
    response.data = {
        "error": body.get("type", "error"),
        "detail": _detail(body.get("error", ""), details),
        "body": "",
        "errors": details or "",
        "request_id": body.get("request_id"),
        # What some errors add (credits_remaining, retry_after, generation_id…), as they say it.
        **{key: value for key, value in body.items() if key not in ENVELOPE_KEYS},
    }
    return response


class A1111View(APIView):
    """A ``/sdapi/v1`` route: API key as Bearer token or Basic password, errors in A1111's shape."""

    authentication_classes = [APIKeyAuthentication, BasicAPIKeyAuthentication]
    # The names a refusal's fields are given (a route whose own fields are A1111's sets none).
    field_names = A1111_NAMES
    # In the compatible APIs' own OpenAPI document (legacy.schema): its shapes, errors included,
    # are AUTOMATIC1111's, not the envelope /api/schema/ promises.
    schema = compat_schema()

    def get_exception_handler(self):
        return a1111_exception_handler


def model_hash(model: AIModel) -> str:
    return hashlib.sha256(model.pk.encode()).hexdigest()


def model_find(name: str) -> AIModel | None:
    """The active model an A1111 checkpoint name means: its id, an alias or its display name,
    in any case, with or without the `` [hash]`` A1111 appends to titles."""
    name = name.strip()
    if name.endswith("]") and " [" in name:
        name = name.rsplit(" [", 1)[0]
    model = model_get(ref=name)
    if model is not None:
        return model
    wanted = name.lower()
    for candidate in model_list():
        if wanted in (candidate.pk.lower(), candidate.name.lower(), *(alias.lower() for alias in candidate.aliases)):
            return candidate
    return None


def model_named(name: str) -> AIModel:
    """``model_find``, or a 422 naming ``sd_model_checkpoint``."""
    model = model_find(name) if name.strip() else None
    if model is None:
        raise ValidationFailed(
            "Unknown model",
            details={CHECKPOINT_OPTION: [f"No model is called '{name}': see /sdapi/v1/sd-models."]},
        )
    return model


def checkpoint_model(*, user, override: str | None) -> AIModel | None:
    """The model a request's ``override_settings.sd_model_checkpoint`` names, else the one the
    user chose with ``POST /options`` while it is still active; None: the configured default."""
    if override:
        return model_named(override)
    chosen = user_client_option(user=user, client=CLIENT, name=CHECKPOINT_OPTION)
    return model_find(chosen) if chosen else None


# A job that has not ended: waiting for a worker, or running.
RUNNING = (Status.PENDING, Status.IN_QUEUE, Status.PROCESSING)


def running_generations(*, user):
    return generation_list(user=user).filter(status__in=RUNNING)


def current_generation(*, user) -> Generation | None:
    """The caller's job A1111 would call current: the one a worker runs (the oldest, when
    several do), else the first in line; None when none is unfinished."""
    running = running_generations(user=user)
    return (
        running.filter(status=Status.PROCESSING).order_by("started_at", "created_at").first()
        or running.order_by("created_at").first()
    )
