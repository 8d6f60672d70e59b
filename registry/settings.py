"""Settings of one exchange node.

Everything that differs between deployments comes from the environment (or a `.env` file), is parsed once
here, and a bad value stops the start with a message that names the variable. Secrets may also come from a
file named by `<NAME>_FILE` (Docker and Kubernetes secrets).
"""

import csv
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from core.logs import logging_config
from core.replicas import PIN_SECONDS_DEFAULT, PRIMARY, REPLICA
from registry.databases import databases
from registry.environment import basis_points, boolean, choice, env, fail, integer, rate
from registry.openapi import OPENAPI

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


# --- The node -----------------------------------------------------------------------------------------------
REGISTRY_ENV = choice("REGISTRY_ENV", "development", ("development", "production"))
PRODUCTION = REGISTRY_ENV == "production"

with (BASE_DIR / "standards" / "data" / "exchanges.csv").open(encoding="utf-8") as fh:
    MEMBER_EXCHANGE_CODES = tuple(row["code"] for row in csv.DictReader(fh))

NODE_CODE = env.str("NODE_CODE", default="SHDEX").strip().upper()
if NODE_CODE not in MEMBER_EXCHANGE_CODES:
    fail(
        "NODE_CODE", NODE_CODE, f"must be the code of a member exchange ({', '.join(MEMBER_EXCHANGE_CODES)})"
    )

NODE_PUBLIC_URL = env.str("NODE_PUBLIC_URL", default="http://127.0.0.1:8001").rstrip("/")
_url = urlsplit(NODE_PUBLIC_URL)
if _url.scheme not in {"http", "https"} or not _url.hostname:
    fail("NODE_PUBLIC_URL", NODE_PUBLIC_URL, "must be an absolute http(s) URL")

NODE_DATA_DIR = Path(env.str("NODE_DATA_DIR", default=str(VAR_DIR / NODE_CODE.lower())))

# --- Federation ---------------------------------------------------------------------------------------------
# The node's Ed25519 private key: a PEM file (created by `manage.py node_init`) or the PEM text itself.
NODE_KEY_FILE = Path(env.str("NODE_KEY_FILE", default=str(NODE_DATA_DIR / "node_key.pem")))
NODE_PRIVATE_KEY = env.str("NODE_PRIVATE_KEY", default="")
FEDERATION = {
    # How often beat pulls every origin and retries wake-ups (seconds). A lost wake-up costs at most this.
    "SYNC_INTERVAL": integer("FEDERATION_SYNC_INTERVAL", 5, minimum=1),
    # An origin with no announced lag is still polled once this often (seconds): the safety net for lost
    # wake-ups. Polling every origin on every tick costs a signed request per origin per tick per node.
    "POLL_INTERVAL": integer("FEDERATION_POLL_INTERVAL", 30, minimum=1),
    "ANTI_ENTROPY_INTERVAL": integer("FEDERATION_ANTI_ENTROPY_INTERVAL", 300, minimum=5),
    # Node-to-node request signatures older than this (or expired) are refused: bounds replay.
    "SIGNATURE_MAX_AGE": integer("FEDERATION_SIGNATURE_MAX_AGE", 60, minimum=5),
    "HTTP_TIMEOUT": integer("FEDERATION_HTTP_TIMEOUT", 10, minimum=1),
    # At least twice a feed page's byte bound (federation.selectors.FEED_PAGE_BYTES, 8 MiB).
    "MAX_RESPONSE_BYTES": integer(
        "FEDERATION_MAX_RESPONSE_BYTES", 32 * 1024 * 1024, minimum=16 * 1024 * 1024
    ),
    "PAGE_SIZE": integer("FEDERATION_PAGE_SIZE", 1000, minimum=1, maximum=1000),  # the feed's own limit
    # A pull holds its origin for this long; a worker killed mid-pull frees it when the lease runs out.
    "PULL_LEASE": integer("FEDERATION_PULL_LEASE", 30, minimum=5),
    "MAX_BACKOFF": integer("FEDERATION_MAX_BACKOFF", 300, minimum=1),
    # Threads per process that check a feed page's Ed25519 signatures beside the applying thread (0: inline).
    "VERIFY_THREADS": integer("FEDERATION_VERIFY_THREADS", 2, minimum=0),
    # A feed page of at least PREPARE_MIN entries is checked (signatures, each record's standard checks) in a
    # helper process while the page before it is applied (federation.prepare); false: in the fetch thread.
    "PREPARE_HELPER": boolean("FEDERATION_PREPARE_HELPER", True),
    "PREPARE_MIN": integer("FEDERATION_PREPARE_MIN", 200, minimum=1),
    # Quarantine per source peer (federation.quarantine): at most this many rows and bytes of raw entries;
    # beyond them refused entries are only counted (and their cases, without raw body, up to the row bound),
    # and an ERROR is logged once per source per ALERT_INTERVAL seconds.
    "QUARANTINE_MAX_ROWS": integer("FEDERATION_QUARANTINE_MAX_ROWS", 10_000, minimum=0),
    "QUARANTINE_MAX_BYTES": integer("FEDERATION_QUARANTINE_MAX_BYTES", 32 * 1024 * 1024, minimum=0),
    "QUARANTINE_ALERT_INTERVAL": integer("FEDERATION_QUARANTINE_ALERT_INTERVAL", 300, minimum=1),
    # Recognition protocols this node announces (federation.protocols, docs/federation.md); 1: the old one.
    "RECOGNITION_PROTOCOL": integer("FEDERATION_RECOGNITION_PROTOCOL", 2, minimum=1, maximum=2),
    "PARTICIPANT_RECOGNITION_PROTOCOL": integer(
        "FEDERATION_PARTICIPANT_RECOGNITION_PROTOCOL", 2, minimum=1, maximum=2
    ),
    # 1: private records pushed with the wake-up to their audience (federation.private_push); 0: not
    "PRIVATE_PUSH": integer("FEDERATION_PRIVATE_PUSH", 1, minimum=0, maximum=1),
}

# --- Core Django --------------------------------------------------------------------------------------------
DEBUG = boolean("DEBUG", False)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        fail("SECRET_KEY", "***", "production needs at least 50 random characters (or SECRET_KEY_FILE)")
    if DEBUG:
        fail("DEBUG", DEBUG, "must be false in production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="development-only-not-secret-" + NODE_CODE)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
# Every job that retries (pulls, wake-ups, private fetches, webhook deliveries) backs off at most this long.
JOBS_MAX_BACKOFF = FEDERATION["MAX_BACKOFF"]

if PRODUCTION and not ALLOWED_HOSTS:
    fail("ALLOWED_HOSTS", "", "production needs at least one host name")
if _url.hostname and _url.hostname not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_url.hostname)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "exchanges",
    "products",
    "quality",
    "participants",
    "demands",
    "deals",
    "federation",
    "interop",
    "api",
    "portal",
    # Last: the project itself, whose ready() makes the node's Celery application current (registry/apps.py).
    "registry",
]

MIDDLEWARE = [
    # First, so that every log line of a request (and the answers of the middleware below) carry its id.
    "core.middleware.RequestIdMiddleware",
    "core.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.UrlLengthLimitMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "core.middleware.UnstorableTextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The portal's pages follow the visitor's language (cookie from set_language, then Accept-Language); the
    # API, the federation and the other machine-facing paths keep LANGUAGE_CODE (docs/portal.md).
    "portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------------------
# The primary (DATABASE_URL) and, with DATABASE_REPLICA_URL, a streaming replica that serves public reads: the
# router sends a request's reads there unless the request writes or its client wrote in the last
# DATABASE_REPLICA_PIN_SECONDS (core/replicas.py); everything outside web requests uses the primary.
DATABASES = databases(NODE_DATA_DIR)
DATABASE_VENDOR = "sqlite" if DATABASES[PRIMARY]["ENGINE"].endswith("sqlite3") else "postgresql"
DATABASE_REPLICA_PIN_SECONDS = integer("DATABASE_REPLICA_PIN_SECONDS", PIN_SECONDS_DEFAULT, minimum=1)
if REPLICA in DATABASES:
    DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
    # After the request id and metrics (which read nothing), before anything that reads.
    MIDDLEWARE.insert(2, "core.replicas.ReplicaReadsMiddleware")

# --- Cache (throttling counters) ----------------------------------------------------------------------------
try:
    CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://registry")}
except (ValueError, KeyError, ImproperlyConfigured) as exc:
    fail("CACHE_URL", env.str("CACHE_URL", default=""), f"not a cache URL ({exc})")
for _cache in CACHES.values():  # one redis client per connection pool, not one per operation (core/cache.py)
    if _cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        _cache["BACKEND"] = "core.cache.RedisCache"
# The public read cache (api/read_cache.py): anonymous pages keyed by the node's change generation, in the
# same server as the counters but apart from them (a page never pushes a throttle counter out of local
# memory).
CACHES["reads"] = {**CACHES["default"], "KEY_PREFIX": "reads"}
if CACHES["reads"]["BACKEND"].endswith("LocMemCache"):
    CACHES["reads"].update(LOCATION="registry-reads", OPTIONS={"MAX_ENTRIES": 2000})
# How long a stored page is kept (it is never served after a change: the key names the generation; this bounds
# the memory that pages take); 0 turns the cache off.
READ_CACHE_SECONDS = integer("READ_CACHE_SECONDS", 60)
# How long facet counts over the listed products are kept in the same cache (products/facet_cache.py: keyed by
# the filtered set's SQL and the change generation, so never served after a change); 0 turns it off.
FACET_CACHE_SECONDS = integer("FACET_CACHE_SECONDS", 60)

# --- Auth ---------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
API_TOKEN_TTL_DAYS = integer("API_TOKEN_TTL_DAYS", 90, minimum=1)
# Participant access tokens are signed by the home node's key and accepted by every node without a call
# home, so they are short-lived; the refresh token (home node only) gets a new one.
# Webhook URLs on private or loopback addresses an operator allows (comma separated); others must be public.
WEBHOOK_ALLOWED_PRIVATE_URLS = frozenset(env.list("WEBHOOK_ALLOWED_PRIVATE_URLS", default=[]))
PARTICIPANT_ACCESS_TTL = integer("PARTICIPANT_ACCESS_TTL", 600, minimum=30)
PARTICIPANT_REFRESH_TTL = integer("PARTICIPANT_REFRESH_TTL", 14 * 24 * 3600, minimum=300)
# A login's refresh tokens renew it for at most this long; then the participant logs in again.
PARTICIPANT_SESSION_MAX = integer("PARTICIPANT_SESSION_MAX", 30 * 24 * 3600, minimum=3600)
# How much earlier than this node first saw it a peer's registration may claim to have been made (clocks
# differ, replication takes time); an earlier claim is ranked from its arrival (docs/participants.md).
PARTICIPANT_CLOCK_SKEW = integer("PARTICIPANT_CLOCK_SKEW", 600, minimum=0)
# Deals: each exchange's fee rates (basis points) until it publishes its terms (docs/deals.md, "Settlement").
EXCHANGE_LISTING_FEE_BP = basis_points("EXCHANGE_LISTING_FEE_BP", 100)
EXCHANGE_BUYER_FEE_BP = basis_points("EXCHANGE_BUYER_FEE_BP", 50)

# --- I18n: Simplified Chinese first, English alongside ------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# The portal's source strings are Chinese; locale/en holds the complete English catalog (docs/portal.md).
LOCALE_PATHS = [BASE_DIR / "locale"]
# People sign in to the portal at /login/ (operators and participant users alike); the admin keeps its own.
LOGIN_URL = "/login/"

# --- Static files (Swagger UI and ReDoc come from drf-spectacular-sidecar, served offline) ------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = (
    True  # serve from app directories too, so a missing collectstatic never breaks /api/docs/
)

# --- Request limits -----------------------------------------------------------------------------------------
MAX_REQUEST_BODY_BYTES = integer("MAX_REQUEST_BODY_BYTES", 256 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# Paths whose body may be larger (regular expression on the path, limit in bytes): a product's sample file
# (products/sample_files.py: 5 MiB; one byte more passes, so that the file's own limit answers it).
LARGE_BODY_PATHS = ((r"^/api/v1/products/[A-Za-z0-9*-]{1,40}/sample/$", 5 * 1024 * 1024 + 1),)
# A longer URL (path and query, percent-encoded) is answered 414 in the error shape by the node itself: below
# gunicorn's `--limit-request-line` 4094 (the whole request line), whose own 414 is an HTML page.
MAX_REQUEST_URL_BYTES = 4000

# --- REST framework -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "participants.authentication.ParticipantTokenAuthentication",
        "accounts.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StablePageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.AnonReadThrottle", "api.throttling.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": rate("THROTTLE_ANON", "600/min"),
        "write": rate("THROTTLE_WRITE", "1200/min"),
        "login": rate("THROTTLE_LOGIN", "10/min"),
        # Self-registration without a token, per client address and per USCC (squatting a company's code).
        "register": rate("THROTTLE_REGISTER", "10/hour"),
        "register_uscc": rate("THROTTLE_REGISTER_USCC", "3/day"),
    },
    # How many reverse proxies put X-Forwarded-For in front of the node: 0 trusts only the socket address,
    # so a client cannot pick its own throttling identity by sending the header itself.
    "NUM_PROXIES": integer("NUM_PROXIES", 0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# CKAN's Action API (/api/3/action/, docs/interop.md) has a limit of its own, per client address (as
# NUM_PROXIES reads it), counted in the default cache apart from the API's throttles.
CKAN_THROTTLE_RATE = rate("THROTTLE_CKAN", "300/min")

# drf-spectacular: the OpenAPI document's metadata and names (registry/openapi.py).
SPECTACULAR_SETTINGS = OPENAPI

# --- Celery -------------------------------------------------------------------------------------------------
_broker_default = "filesystem://"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_broker_default)
_broker_scheme = urlsplit(CELERY_BROKER_URL).scheme
if _broker_scheme not in {"filesystem", "redis", "rediss", "amqp", "memory"}:
    fail("CELERY_BROKER_URL", CELERY_BROKER_URL, "scheme must be filesystem, redis, rediss, amqp or memory")
if _broker_scheme == "filesystem":
    _broker_dir = NODE_DATA_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # The fan-out (broadcast) bindings: kombu's default is ./control, shared by every node started from
        # the same directory and written into the repository.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # kombu's default polls once a second; replication latency is measured in hundreds of milliseconds.
        # Each poll lists the queue folder: many nodes on one small machine (bench/federation24.py) poll less.
        "polling_interval": integer("CELERY_BROKER_POLLING_MS", 50, minimum=10) / 1000,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task may run, so an unacknowledged task is redelivered only after a worker died.
        "visibility_timeout": integer("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Two queues. `celery` (the default) carries the tasks whose delay users see: wake-ups to peers, demand
# matching, webhooks, the ticks. `sync` carries the long ones: pulls (a catch-up holds its worker for
# minutes), anti-entropy checks and private-record fetches. In production a node runs a worker for each
# (`-Q celery`, `-Q sync`), so a catch-up from 23 peers never delays a wake-up or a match; `make run` runs one
# worker with `-Q celery,sync`. A worker started without -Q consumes only `celery`: pulls would wait
# (docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
SYNC_QUEUE = "sync"
CELERY_TASK_ROUTES = {
    name: {"queue": SYNC_QUEUE}
    for name in (
        "federation.tasks.pull_origin",
        "federation.tasks.anti_entropy_peer",
        "federation.tasks.fetch_private",
        "core.tasks.sync_heartbeat",
    )
}
CELERY_BEAT_SCHEDULE = {
    "node-heartbeat": {"task": "core.tasks.node_heartbeat", "schedule": 15.0},
    "sync-heartbeat": {"task": "core.tasks.sync_heartbeat", "schedule": 15.0},
    "federation-sync": {"task": "federation.tasks.sync_tick", "schedule": float(FEDERATION["SYNC_INTERVAL"])},
    "demands-tick": {"task": "demands.tasks.demands_tick", "schedule": 10.0},
    "deals-tick": {"task": "deals.tasks.deals_tick", "schedule": 60.0},
    "products-follow-providers": {"task": "products.tasks.follow_providers", "schedule": 60.0},
    "products-facet-rollup": {"task": "products.tasks.facet_rollup_compact", "schedule": 60.0},
    "quality-tick": {"task": "quality.tasks.quality_tick", "schedule": 3600.0},
    "federation-anti-entropy": {
        "task": "federation.tasks.anti_entropy",
        "schedule": float(FEDERATION["ANTI_ENTROPY_INTERVAL"]),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(NODE_DATA_DIR / "celerybeat-schedule")

# --- Security (manage.py check --deploy is clean with REGISTRY_ENV=production) ------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # and CSP's frame-ancestors 'none' (core.middleware.ContentSecurityPolicyMiddleware)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The portal's forms carry the token in the page (a hidden field; htmx sends it in a header): no script reads
# the cookie.
CSRF_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = boolean("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = integer("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The directive only allows a later, manual submission to browsers' preload lists.
    SECURE_HSTS_PRELOAD = boolean("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"https://{h}" for h in ALLOWED_HOSTS])
    SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# --- Logging and metrics ------------------------------------------------------------------------------------
LOG_LEVEL = choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
# One JSON object per line in production (web, workers, beat, commands alike); plain text otherwise.
LOG_FORMAT = choice("LOG_FORMAT", "json" if PRODUCTION else "plain", ("json", "plain"))
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL, node=NODE_CODE)
# GET /metrics: with a token, only `Authorization: Bearer <it>`; else open in development, 403 in production
METRICS_TOKEN = env.str("METRICS_TOKEN", default="").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    fail("METRICS_TOKEN", "***", "must be at least 24 characters (or empty)")
