"""Settings shared by every environment.

Everything is read from the environment through one ``environ.Env``; every value has a safe
default so that the embedded run (SQLite, a broker and a cache in files, local storage, the
``local`` provider) needs no ``.env`` file. Production secrets have no default (see production.py).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")

INSTALLED_APPS = [
    # The admin with Atelier's header, dashboard and section names (ops/admin_site.py).
    "ops.admin_site.AtelierAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "storages",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "ops",
    "accounts",
    "teams",
    "catalog",
    "credits",
    "gallery",
    "generation",
    "training",
    "webhooks",
]

MIDDLEWARE = [
    "core.middleware.RequestIDMiddleware",
    # Outside everything else, so that every error an API client gets is in the envelope.
    "core.middleware.APIErrorEnvelopeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    # WhiteNoise's middleware, async-capable (WhiteNoise's own is sync only).
    "core.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's common and authentication middleware, their hooks on the event loop under ASGI.
    "core.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.InactiveUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_settings(config: dict) -> dict:
    """What every settings module applies to the database ``DATABASE_URL`` names."""
    config["ATOMIC_REQUESTS"] = False
    # Persistent connections (seconds) pay off in production's long-lived workers; dev.py sets 0.
    config["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    if config["ENGINE"].endswith("postgresql") and env.bool("DB_PREPARED_STATEMENTS", default=True):
        # Server-side parameter binding lets psycopg prepare the statements a connection runs
        # again and again (from the fifth run): PostgreSQL then skips parsing and planning them.
        # Set DB_PREPARED_STATEMENTS=false behind a pooler in transaction mode (PgBouncer).
        config.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
    if config["ENGINE"].endswith("postgresql") and env.bool("DB_POOL", default=True):
        # Every process (web, worker, beat) borrows its connections from a pool of its own
        # (psycopg_pool), so the connections a process opens are bounded however many requests
        # it serves at once: a burst waits up to DB_POOL_TIMEOUT seconds for a free connection
        # and is then answered 503 with Retry-After (core.exception_handler), never with the
        # server's "too many clients". Size it so that every process of the deployment together
        # stays under PostgreSQL's max_connections (docs/production-database.md). A pooled
        # connection goes back to the pool at the end of each request, so Django must not keep
        # it (CONN_MAX_AGE 0, which Django requires with a pool).
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DB_POOL_TIMEOUT", default=20.0),
        }
        config["CONN_MAX_AGE"] = 0
    if config["ENGINE"].endswith("postgresql"):
        # Behind PgBouncer in transaction mode a cursor cannot outlive its transaction's server.
        config["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_DISABLE_SERVER_SIDE_CURSORS", default=False)
    if config["ENGINE"].endswith("sqlite3"):
        # The embedded run's web, worker and beat processes write to one SQLite file. WAL lets
        # readers and one writer work at once; IMMEDIATE makes every transaction take the write
        # lock when it begins, so two writers queue on the busy timeout (20 s) instead of one
        # failing at once with "database is locked" when both upgrade a read lock.
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": env.float("DB_SQLITE_TIMEOUT", default=20.0),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    return config


DATABASES = {"default": database_settings(env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Sessions of deactivated users still resolve to them, so the API can answer 403 rather
    # than pretend they are anonymous; every login path checks is_active itself.
    "django.contrib.auth.backends.AllowAllUsersModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Sessions end after 24 hours without activity (seed 001) and are renewed on every use.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=24 * 3600)
SESSION_SAVE_EVERY_REQUEST = True

# The Content-Security-Policy of every HTML page (core.middleware): scripts and styles from this
# server only (inline style attributes allowed), images and videos also as data:/blob: URLs
# (upload previews) and, with S3 storage, from the bucket's pre-signed https URLs.
_CSP_MEDIA = "'self' data: blob:"
if env("STORAGE", default="local") == "s3":
    _CSP_MEDIA = f"{_CSP_MEDIA} https: {'/'.join(env('AWS_S3_ENDPOINT_URL', default='').split('/')[:3])}".rstrip()
ATELIER_CONTENT_SECURITY_POLICY = env(
    "ATELIER_CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {_CSP_MEDIA}; media-src {_CSP_MEDIA}; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    ),
)

# django-allauth: email + password accounts, Google as a social provider.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_RATE_LIMITS = {"login_failed": "5/15m/ip"}
# EMAIL_URL: smtp://user:password@host:587 in production; mail is printed to the console otherwise.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Atelier <noreply@localhost>")
GOOGLE_CLIENT_ID = env("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env("GOOGLE_CLIENT_SECRET", default="")
# Where Google publishes the keys that sign its ID tokens; tests point it at their own.
GOOGLE_CERTS_URL = env("GOOGLE_CERTS_URL", default="https://www.googleapis.com/oauth2/v1/certs")
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": [{"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET}] if GOOGLE_CLIENT_ID else [],
        "SCOPE": ["profile", "email"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# Storage: local files under MEDIA_ROOT, or S3 (any S3-compatible endpoint) with STORAGE=s3.
STORAGE_BACKEND = env("STORAGE", default="local")
if STORAGE_BACKEND == "s3":
    AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=3600)
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Redis, when configured, is the cache and the Celery broker. Without it (the embedded run) the
# broker is kombu's filesystem transport and the cache is Django's file cache, both in folders
# under VAR_DIR that the web, worker and beat processes of `make run` share.
REDIS_URL = env("REDIS_URL", default="")
VAR_DIR = Path(env("ATELIER_VAR_DIR", default=str(BASE_DIR / "var")))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "cache"}
    }
    CELERY_BROKER_URL = "filesystem://localhost/"  # the host names nothing; kombu wants one
    # One folder for the messages, written by every sender and read by every worker; the
    # folders are made by config/celery.py. A worker looks for new messages every 0.1 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "messages"),
        "data_folder_out": str(VAR_DIR / "broker" / "messages"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "polling_interval": 0.1,
    }
    # Remote control (`celery inspect`) needs a broadcasting broker; the embedded run needs none.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False

CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Workers keep their database connection from task to task, as web processes keep theirs from
# request to request (CONN_MAX_AGE); Celery would otherwise close it around every task, and each
# task would pay for a new connection (PostgreSQL for a new backend process). A connection that
# broke or outlived CONN_MAX_AGE is dropped before the next task (config/celery.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000) or None

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Team keys (atlteam_…) first: the personal key class refuses any key it does not know.
        "teams.authentication.TeamAPIKeyAuthentication",
        "accounts.authentication.APIKeyAuthentication",
        "accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsActiveUser"],
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.GroupRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        # The browsable API; on the site's pages (share links) a 404 is the styled error page.
        "core.renderers.PageErrorsBrowsableAPIRenderer",
    ],
    # JSON bodies must be objects (core/parsers.py); forms and multipart as DRF parses them.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # drf-spectacular's AutoSchema, plus the error envelope on every operation (core/schema.py).
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.exception_handler.envelope_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Atelier API",
    "DESCRIPTION": "Generate images and videos with many AI providers, keep them in a gallery, pay with credits.",
    "VERSION": "1.0.0",
    # Choice sets several components share get one name each (core/schema.py, ops/views.py).
    "ENUM_NAME_OVERRIDES": {
        "CheckStatusEnum": ["ok", "error"],
        "ErrorTypeEnum": "core.errors.ErrorType",
        "TeamRoleEnum": "teams.models.Role",
    },
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets are served from this server, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The OpenAI- and A1111-compatible routes answer in those APIs' shapes, not the envelope this
    # document promises: they have a document of their own, /api/schema/compat/ (legacy.schema).
    "PREPROCESSING_HOOKS": ["legacy.schema.without_compat_apis"],
    # The enums' own hook, then the team header on the routes that act as a team (teams/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "teams.schema.team_header_in_schema"],
}

# Providers: one key and one base-URL override each. A provider without its key is listed as
# unavailable; the offline ``local`` provider always works.
FAL_KEY = env("FAL_KEY", default="")
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="")
REPLICATE_API_TOKEN = env("REPLICATE_API_TOKEN", default="")
REPLICATE_BASE_URL = env("REPLICATE_BASE_URL", default="")
HF_TOKEN = env("HF_TOKEN", default="")
HF_BASE_URL = env("HF_BASE_URL", default="")
COMFYUI_URL = env("COMFYUI_URL", default="")
ANTHROPIC_API_KEY = env("ANTHROPIC_API_KEY", default="")
ANTHROPIC_BASE_URL = env("ANTHROPIC_BASE_URL", default="")

# Generation and credits.
ATELIER_DEFAULT_MODEL = env("ATELIER_DEFAULT_MODEL", default="local/procedural")
# The model of the OpenAI-compatible Images API (/v1/images/generations) when a request names none.
ATELIER_OPENAI_DEFAULT_MODEL = env("ATELIER_OPENAI_DEFAULT_MODEL", default="local/procedural")
ATELIER_STARTING_CREDITS = env.int("ATELIER_STARTING_CREDITS", default=100)
# Teams: how long an emailed invite link stays good.
ATELIER_TEAM_INVITE_DAYS = env.int("ATELIER_TEAM_INVITE_DAYS", default=7)
# Credits a new team's wallet starts with (staff add more, or put it on a plan).
ATELIER_TEAM_STARTING_CREDITS = env.int("ATELIER_TEAM_STARTING_CREDITS", default=0)
ATELIER_MAX_PROMPT_LENGTH = 2000
ATELIER_MAX_NEGATIVE_PROMPT_LENGTH = 1000
ATELIER_MAX_SEED = 2**32

# The job system. Time limits are per provider queue (seconds); a job still "processing" after
# its hard limit plus the grace period belonged to a worker that died and is recovered.
ATELIER_PROVIDER_TIME_LIMITS = {
    "default": {"soft": 300, "hard": 360},
    "local": {"soft": 120, "hard": 150},
    "comfyui": {"soft": 900, "hard": 960},
}
ATELIER_RECOVERY_GRACE_SECONDS = env.int("ATELIER_RECOVERY_GRACE_SECONDS", default=60)
# A job queued at a hosted provider that has not finished after this long is failed and refunded.
ATELIER_UPSTREAM_DEADLINE_SECONDS = env.int("ATELIER_UPSTREAM_DEADLINE_SECONDS", default=1800)
# A queued job whose message was sent this long ago without being claimed gets its message again.
ATELIER_REDISPATCH_AFTER_SECONDS = env.int("ATELIER_REDISPATCH_AFTER_SECONDS", default=600)
ATELIER_MAX_ATTEMPTS = env.int("ATELIER_MAX_ATTEMPTS", default=3)
ATELIER_RETRY_BACKOFF_SECONDS = 2.0
ATELIER_RETRY_BACKOFF_MAX_SECONDS = 60.0
ATELIER_POLL_INTERVAL_SECONDS = 1.0
ATELIER_POLL_INTERVAL_MAX_SECONDS = 30.0
ATELIER_SYNC_TIMEOUT_SECONDS = env.float("ATELIER_SYNC_TIMEOUT_SECONDS", default=60.0)
# The longest a `Prefer: wait=N` on POST /api/generate holds the request (a larger N is cut to it).
ATELIER_SYNC_WAIT_MAX_SECONDS = env.float("ATELIER_SYNC_WAIT_MAX_SECONDS", default=60.0)
# How long a process keeps the catalog and plans it read (core.process_cache); 0 reads every time.
ATELIER_PROCESS_CACHE_SECONDS = env.float("ATELIER_PROCESS_CACHE_SECONDS", default=5.0)
ATELIER_EVENT_STREAM_MAX_SECONDS = env.int("ATELIER_EVENT_STREAM_MAX_SECONDS", default=900)
# How many of a queue's waiting jobs hear their new position when it moves (one message per move).
ATELIER_QUEUE_POSITIONS_PUSHED = env.int("ATELIER_QUEUE_POSITIONS_PUSHED", default=100)
ATELIER_IDEMPOTENCY_TTL_HOURS = 24
# In-progress pictures on a generation's live stream: their longest side, and at most one per
# this many milliseconds per generation (the newest frame; those in between are dropped).
ATELIER_PREVIEW_MAX_SIDE = env.int("ATELIER_PREVIEW_MAX_SIDE", default=256)
ATELIER_PREVIEW_MIN_INTERVAL_MS = env.int("ATELIER_PREVIEW_MIN_INTERVAL_MS", default=500)
# A pause of the local provider after each layer it paints, when previews are on: a demo where
# the painting can be watched. 0 (no pause) by default.
ATELIER_LOCAL_PAINT_DELAY_MS = env.int("ATELIER_LOCAL_PAINT_DELAY_MS", default=0)

# Rate limits per endpoint group (django-ratelimit on the cache: Redis in production), counted
# per account when signed in, else per client address. Rates: N/s, N/m, N/h, N/d, or N/15m.
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_IP_META_KEY = env("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
ATELIER_RATE_LIMITS = {
    "general": env("RATE_LIMIT_GENERAL", default="100/15m"),
    "generation": env("RATE_LIMIT_GENERATION", default="10/m"),
    "auth": env("RATE_LIMIT_AUTH", default="5/15m"),
    "gallery": env("RATE_LIMIT_GALLERY", default="1000/h"),
    "prompt": env("RATE_LIMIT_PROMPT", default="100/m"),
    "training": env("RATE_LIMIT_TRAINING", default="5/h"),
    "admin": env("RATE_LIMIT_ADMIN", default="1000/h"),
}
# Plan quotas where the user's plan sets none (seed 001: 50 generations a day, 100 requests an hour).
ATELIER_DEFAULT_DAILY_GENERATIONS = env.int("ATELIER_DEFAULT_DAILY_GENERATIONS", default=50)
ATELIER_DEFAULT_HOURLY_REQUESTS = env.int("ATELIER_DEFAULT_HOURLY_REQUESTS", default=100)
ATELIER_QUOTAS_ENABLED = env.bool("ATELIER_QUOTAS_ENABLED", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIDFilter"}},
    "formatters": {
        "standard": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "standard", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Gallery: thumbnails (WebP, long side in pixels) and how long a pre-signed S3 URL for a
# private file stays valid (seconds).
ATELIER_THUMBNAIL_SIZE = env.int("ATELIER_THUMBNAIL_SIZE", default=384)
ATELIER_THUMBNAIL_QUALITY = env.int("ATELIER_THUMBNAIL_QUALITY", default=80)
ATELIER_PRESIGNED_URL_EXPIRE = env.int("ATELIER_PRESIGNED_URL_EXPIRE", default=300)

# Content credentials (C2PA, gallery.provenance): with a certificate chain (PEM, the signer's
# certificate first) and its private key (PEM; the algorithm follows from the key), every image
# the platform stores, and every conversion of one, is signed. Empty = outputs are not signed.
# TRUST_ANCHORS: PEM roots the reader trusts besides the SDK's own; TSA_URL: an RFC 3161
# timestamp authority the signer asks (empty = no timestamp, nothing leaves the host).
ATELIER_C2PA_CERT = env("ATELIER_C2PA_CERT", default="")
ATELIER_C2PA_KEY = env("ATELIER_C2PA_KEY", default="")
ATELIER_C2PA_TRUST_ANCHORS = env("ATELIER_C2PA_TRUST_ANCHORS", default="")
ATELIER_C2PA_TSA_URL = env("ATELIER_C2PA_TSA_URL", default="")

# Prompt enhancement (catalog issue): the LLM models asked when a request names none, and the
# bounds of one call. Without ANTHROPIC_API_KEY / OPENAI_API_KEY the offline composer answers.
ATELIER_PROMPT_ANTHROPIC_MODEL = env("ATELIER_PROMPT_ANTHROPIC_MODEL", default="claude-haiku-4-5")
ATELIER_PROMPT_OPENAI_MODEL = env("ATELIER_PROMPT_OPENAI_MODEL", default="gpt-4.1-mini")
ATELIER_PROMPT_LLM_TIMEOUT_SECONDS = env.float("ATELIER_PROMPT_LLM_TIMEOUT_SECONDS", default=20.0)
ATELIER_PROMPT_LLM_MAX_RETRIES = env.int("ATELIER_PROMPT_LLM_MAX_RETRIES", default=1)
ATELIER_PROMPT_LLM_MAX_TOKENS = 400

# Credits (credits issue): per-image extras on top of a model's price, by model kind and for
# LoRAs; the monthly refill ("reset" the balance to the plan's allowance, or "add" it) and its
# batch size; the balance under which credits.low is announced (0 = never).
ATELIER_CREDIT_KIND_EXTRAS = {
    "image-to-video": env.int("ATELIER_CREDIT_EXTRA_VIDEO", default=2),
    "upscale": env.int("ATELIER_CREDIT_EXTRA_UPSCALE", default=1),
}
ATELIER_CREDIT_LORA_EXTRA = env.int("ATELIER_CREDIT_LORA_EXTRA", default=1)
ATELIER_LORA_TRAINING_CREDITS = env.int("ATELIER_LORA_TRAINING_CREDITS", default=50)
# LoRA training (training/): the queue, prices, dataset caps and the local trainer's rhythm.
ATELIER_TRAINING_QUEUE = "training"
ATELIER_TRAINING_DEFAULT_PROVIDER = env("ATELIER_TRAINING_DEFAULT_PROVIDER", default="local")
# Credits = base + per thousand steps (rounded up), per provider; the quote is what is held.
ATELIER_TRAINING_BASE_CREDITS = {
    "local": 2,
    "fal": ATELIER_LORA_TRAINING_CREDITS,
    "replicate": ATELIER_LORA_TRAINING_CREDITS,
}
ATELIER_TRAINING_CREDITS_PER_1000_STEPS = {"local": 5, "fal": 20, "replicate": 20}
ATELIER_TRAINING_SECONDS_PER_STEP = {"local": 0.01, "fal": 1.2, "replicate": 1.5}
ATELIER_TRAINING_ALLOWANCE_ENABLED = env.bool("ATELIER_TRAINING_ALLOWANCE_ENABLED", default=True)
ATELIER_TRAINING_MIN_IMAGES = env.int("ATELIER_TRAINING_MIN_IMAGES", default=3)
ATELIER_TRAINING_RECOMMENDED_IMAGES = env.int("ATELIER_TRAINING_RECOMMENDED_IMAGES", default=10)
ATELIER_TRAINING_MAX_IMAGES = env.int("ATELIER_TRAINING_MAX_IMAGES", default=30)
ATELIER_TRAINING_MAX_IMAGES_BY_PLAN = {"free": 30, "pro": 100, "studio": 300}
ATELIER_TRAINING_MIN_IMAGE_SIDE = env.int("ATELIER_TRAINING_MIN_IMAGE_SIDE", default=256)
ATELIER_TRAINING_LOG_LINES = 20
ATELIER_TRAINING_SAMPLE_ROUNDS = 4
ATELIER_TRAINING_CHECKPOINT_EVERY = env.int("ATELIER_TRAINING_CHECKPOINT_EVERY", default=50)
# A running job whose worker wrote nothing for this long is requeued (resumes from its checkpoint).
ATELIER_TRAINING_STALE_SECONDS = env.int("ATELIER_TRAINING_STALE_SECONDS", default=120)
ATELIER_TRAINING_MAX_ATTEMPTS = env.int("ATELIER_TRAINING_MAX_ATTEMPTS", default=3)
ATELIER_TRAINING_POLL_SECONDS = env.float("ATELIER_TRAINING_POLL_SECONDS", default=15.0)
ATELIER_TRAINING_REMOTE_DEADLINE_SECONDS = env.int("ATELIER_TRAINING_REMOTE_DEADLINE_SECONDS", default=6 * 3600)
# Larger dataset zips go to fal and Replicate as a signed link (needs PUBLIC_BASE_URL), valid this long.
ATELIER_TRAINING_INLINE_MAX_BYTES = env.int("ATELIER_TRAINING_INLINE_MAX_BYTES", default=4 * 1024 * 1024)
ATELIER_TRAINING_DATASET_LINK_SECONDS = env.int("ATELIER_TRAINING_DATASET_LINK_SECONDS", default=24 * 3600)
ATELIER_REPLICATE_TRAINER = env(
    "ATELIER_REPLICATE_TRAINER",
    default="ostris/flux-dev-lora-trainer:26dce37af90b9d997eeb970d92e47de3064d46c300504ae376c75bef6a9022d2",
)
# The Replicate model (owner/name) that receives each trained version.
ATELIER_REPLICATE_TRAINING_DESTINATION = env("ATELIER_REPLICATE_TRAINING_DESTINATION", default="")
ATELIER_REFILL_POLICY = env("ATELIER_REFILL_POLICY", default="reset")
ATELIER_REFILL_BATCH_SIZE = env.int("ATELIER_REFILL_BATCH_SIZE", default=500)
ATELIER_CREDITS_LOW_THRESHOLD = env.int("ATELIER_CREDITS_LOW_THRESHOLD", default=10)

# Hugging Face provider: how long one job waits, in total, for a cold model to load (the 503
# "model is loading" answer) before failing with "GPU resources busy"; and one call's timeout.
ATELIER_HF_LOADING_WAIT_SECONDS = env.float("ATELIER_HF_LOADING_WAIT_SECONDS", default=120.0)
ATELIER_HF_TIMEOUT_SECONDS = env.float("ATELIER_HF_TIMEOUT_SECONDS", default=120.0)

# OpenAI images provider: one call's timeout, and the largest image accepted when OpenAI
# answers with a URL to download rather than base64.
ATELIER_OPENAI_TIMEOUT_SECONDS = env.float("ATELIER_OPENAI_TIMEOUT_SECONDS", default=120.0)
ATELIER_OPENAI_MAX_DOWNLOAD_BYTES = env.int("ATELIER_OPENAI_MAX_DOWNLOAD_BYTES", default=50 * 1024 * 1024)

# Web UI (web UI issue): the site's own CSS, scripts and vendored htmx live in static/ at the
# project root, beside the apps' static folders.
STATICFILES_DIRS = [BASE_DIR / "static"]

# ComfyUI provider (self-hosted, COMFYUI_URL): one HTTP call's timeout; how long one poll of a
# queued prompt follows ComfyUI's websocket for progress before reading the history; the
# largest image accepted from /view; and the seed 002 start route: the command (a JSON list of
# arguments, run without a shell; empty = the route answers that it is not configured) and how
# long it waits for the server to answer after starting it.
ATELIER_COMFYUI_TIMEOUT_SECONDS = env.float("ATELIER_COMFYUI_TIMEOUT_SECONDS", default=30.0)
ATELIER_COMFYUI_LISTEN_SECONDS = env.float("ATELIER_COMFYUI_LISTEN_SECONDS", default=20.0)
ATELIER_COMFYUI_MAX_DOWNLOAD_BYTES = env.int("ATELIER_COMFYUI_MAX_DOWNLOAD_BYTES", default=50 * 1024 * 1024)
COMFYUI_START_COMMAND = env.json("COMFYUI_START_COMMAND", default=[])
ATELIER_COMFYUI_START_WAIT_SECONDS = env.float("ATELIER_COMFYUI_START_WAIT_SECONDS", default=60.0)

# Hosted queued providers, fal and Replicate (FAL_KEY, REPLICATE_API_TOKEN above).
# fal-client reads its hosts itself from the environment (FAL_RUN_HOST, FAL_QUEUE_RUN_HOST;
# always HTTPS) when it is first imported. Webhooks are asked for only when
# PUBLIC_BASE_URL (this server's address as the providers reach it) is set; without it jobs are
# followed by polling alone. fal signs webhooks with ED25519 keys published as a JWKS (cached
# for ATELIER_FAL_JWKS_CACHE_SECONDS); Replicate signs with the account's Standard-Webhooks
# secret (GET /v1/webhooks/default/secret). Signed timestamps older or newer than the tolerance
# are refused. Provider outputs are downloaded into our storage, each at most
# ATELIER_PROVIDER_DOWNLOAD_MAX_BYTES. What is still failing after an SDK's own retries (fal-client
# retries 429 and timeouts itself) is retried by the job system with its own backoff.
FAL_WEBHOOK_JWKS_URL = env("FAL_WEBHOOK_JWKS_URL", default="https://rest.alpha.fal.ai/.well-known/jwks.json")
REPLICATE_WEBHOOK_SIGNING_SECRET = env("REPLICATE_WEBHOOK_SIGNING_SECRET", default="")
ATELIER_FAL_TIMEOUT_SECONDS = env.float("ATELIER_FAL_TIMEOUT_SECONDS", default=30.0)
ATELIER_FAL_JWKS_CACHE_SECONDS = env.int("ATELIER_FAL_JWKS_CACHE_SECONDS", default=24 * 3600)
ATELIER_REPLICATE_TIMEOUT_SECONDS = env.float("ATELIER_REPLICATE_TIMEOUT_SECONDS", default=30.0)
# How long the worker that creates a streaming Replicate prediction follows its event stream
# (its previews) before leaving the prediction to polls and the webhook.
ATELIER_REPLICATE_STREAM_SECONDS = env.float("ATELIER_REPLICATE_STREAM_SECONDS", default=60.0)
ATELIER_WEBHOOK_TOLERANCE_SECONDS = env.int("ATELIER_WEBHOOK_TOLERANCE_SECONDS", default=300)
ATELIER_PROVIDER_DOWNLOAD_MAX_BYTES = env.int("ATELIER_PROVIDER_DOWNLOAD_MAX_BYTES", default=50 * 1024 * 1024)
ATELIER_PROVIDER_DOWNLOAD_TIMEOUT_SECONDS = env.float("ATELIER_PROVIDER_DOWNLOAD_TIMEOUT_SECONDS", default=20.0)
# While a provider is to call our webhook, its jobs are polled at most this often (the fallback).
ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS = env.float("ATELIER_WEBHOOK_POLL_FALLBACK_SECONDS", default=5.0)

# Generation inputs (image inputs issue): image uploads are capped (seed 001: 10 MB; no input
# takes a video) and must decode within the pixel budget (Pillow's decompression-bomb guard at
# this limit). Image URLs are fetched by the one guarded fetcher: public addresses only, each
# redirect checked again, size-capped while streaming, with a connect and a total time limit.
# Hosts in the allow-list (``host`` or ``host:port``) may resolve to private addresses: the
# test fakes, or a self-hosted ComfyUI on the local network. Video outputs of the local
# provider stay within the frame and fps caps.
ATELIER_UPLOAD_MAX_IMAGE_BYTES = env.int("ATELIER_UPLOAD_MAX_IMAGE_BYTES", default=10 * 1024 * 1024)
ATELIER_UPLOAD_MAX_PIXELS = env.int("ATELIER_UPLOAD_MAX_PIXELS", default=50_000_000)
# Room for the form fields beside the image and the mask: a POST /api/generate body larger than
# both files at their limit plus this is refused (413) before it is read.
ATELIER_UPLOAD_MAX_FORM_OVERHEAD_BYTES = env.int("ATELIER_UPLOAD_MAX_FORM_OVERHEAD_BYTES", default=1024 * 1024)
ATELIER_URL_FETCH_MAX_BYTES = env.int("ATELIER_URL_FETCH_MAX_BYTES", default=10 * 1024 * 1024)
ATELIER_URL_FETCH_CONNECT_TIMEOUT_SECONDS = env.float("ATELIER_URL_FETCH_CONNECT_TIMEOUT_SECONDS", default=3.0)
ATELIER_URL_FETCH_TIMEOUT_SECONDS = env.float("ATELIER_URL_FETCH_TIMEOUT_SECONDS", default=10.0)
ATELIER_URL_FETCH_MAX_REDIRECTS = env.int("ATELIER_URL_FETCH_MAX_REDIRECTS", default=3)
ATELIER_URL_FETCH_ALLOWED_HOSTS = env.list("ATELIER_URL_FETCH_ALLOWED_HOSTS", default=[])
# A CA bundle (PEM file) to verify fetched https URLs with, e.g. a private CA; empty = the system's.
ATELIER_URL_FETCH_CA_BUNDLE = env("ATELIER_URL_FETCH_CA_BUNDLE", default="")
ATELIER_VIDEO_MAX_FRAMES = env.int("ATELIER_VIDEO_MAX_FRAMES", default=120)
ATELIER_VIDEO_MAX_FPS = env.int("ATELIER_VIDEO_MAX_FPS", default=30)

# The operator side (ops/admin_api, ops/provider_health.py, webhooks/). Version and build date
# are shown by /admin/api/status; the environment's name defaults to the settings module's.
ATELIER_VERSION = env("ATELIER_VERSION", default="1.0.0")
ATELIER_BUILD_DATE = env("ATELIER_BUILD_DATE", default="")
ATELIER_ENVIRONMENT = env("ATELIER_ENVIRONMENT", default="")
# Whole-table figures of /admin/api/status (users, images, storage) are cached this long.
ATELIER_ADMIN_STATUS_CACHE_SECONDS = env.int("ATELIER_ADMIN_STATUS_CACHE_SECONDS", default=30)
# /admin/api/metrics stores a day's rollup this long after the day ended; until then it is live.
ATELIER_METRICS_SETTLE_HOURS = env.int("ATELIER_METRICS_SETTLE_HOURS", default=6)
# Provider health is measured over this window; a provider with at least MIN_CALLS calls and a
# lower success rate (percent) is shown as degraded.
ATELIER_PROVIDER_HEALTH_WINDOW_MINUTES = env.int("ATELIER_PROVIDER_HEALTH_WINDOW_MINUTES", default=60)
ATELIER_PROVIDER_DEGRADED_MIN_CALLS = env.int("ATELIER_PROVIDER_DEGRADED_MIN_CALLS", default=5)
ATELIER_PROVIDER_DEGRADED_SUCCESS_RATE = env.float("ATELIER_PROVIDER_DEGRADED_SUCCESS_RATE", default=90.0)
# Workers write a heartbeat at most this often; /health fails when none is newer than STALE.
ATELIER_HEARTBEAT_WRITE_SECONDS = env.int("ATELIER_HEARTBEAT_WRITE_SECONDS", default=10)
ATELIER_HEARTBEAT_STALE_SECONDS = env.int("ATELIER_HEARTBEAT_STALE_SECONDS", default=90)
# Outbound webhooks (Standard Webhooks): the delays before each retry (seconds; the spec's
# example schedule), the share of random jitter added to each, the longest Retry-After
# honoured, one attempt's timeout, after how many failed attempts in a row an endpoint is
# disabled (and staff alerted), and how long a rotated secret's old value still signs.
ATELIER_WEBHOOK_RETRY_SCHEDULE = env.list(
    "ATELIER_WEBHOOK_RETRY_SCHEDULE", cast=float, default=[5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
)
ATELIER_WEBHOOK_RETRY_JITTER = env.float("ATELIER_WEBHOOK_RETRY_JITTER", default=0.2)
ATELIER_WEBHOOK_MAX_RETRY_AFTER_SECONDS = env.int("ATELIER_WEBHOOK_MAX_RETRY_AFTER_SECONDS", default=86400)
ATELIER_WEBHOOK_TIMEOUT_SECONDS = env.float("ATELIER_WEBHOOK_TIMEOUT_SECONDS", default=15.0)
ATELIER_WEBHOOK_DISABLE_AFTER_FAILURES = env.int("ATELIER_WEBHOOK_DISABLE_AFTER_FAILURES", default=50)
ATELIER_WEBHOOK_SECRET_ROTATION_HOURS = env.int("ATELIER_WEBHOOK_SECRET_ROTATION_HOURS", default=24)
# A generation's in-progress webhook events (image.started, image.preview, image.log): at most one
# message per event type per generation per this many milliseconds (the events in between join
# the next one: the newest picture, every log line).
ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS = env.int("ATELIER_WEBHOOK_EVENT_MIN_INTERVAL_MS", default=500)
# Optional token for Prometheus at /metrics (Authorization: Bearer …); staff sessions always may.
ATELIER_METRICS_TOKEN = env("ATELIER_METRICS_TOKEN", default="")
