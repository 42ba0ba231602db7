"""PMHub settings: one module, driven by environment variables (see .env.example).

Defaults give the embedded mode: SQLite file, Celery eager in-process, console e-mail.
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and a real Redis broker.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
# The default is public: fine for development (DEBUG=true) and for tests, refused by every serving
# process with DEBUG off (pmhub/checks.py).
SECRET_KEY = env("SECRET_KEY", default="") or "django-insecure-pmhub-development-key-change-me"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Public address used in e-mails (invitations, reports, unsubscribe links).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Currency of "currency" KPIs, shown as its symbol (pmhub.formatting.kpi_value).
CURRENCY = env("CURRENCY", default="EUR")

INSTALLED_APPS = [
    # first: `manage.py runserver` is daphne's and serves ASGI (HTTP and the live websocket); daphne's
    # own app is not listed, it would import Twisted at every process start (decision 2071)
    "pmhub.devserver",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "pmhub",
    "roadmaps",
    "backlog",
    "metrics",
    "adoption",
    "delivery",
    "discovery",
    "reports",
    "governance",
    "integrations",
    "sso",
    "scim",
]
DOMAIN_APPS = ["roadmaps", "backlog", "metrics", "adoption", "delivery", "discovery", "reports", "governance",
               "integrations", "sso", "scim"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pmhub.middleware.ContentSecurityPolicyMiddleware",
    "pmhub.middleware.RequestSizeLimitMiddleware",
    "pmhub.middleware.ApiJsonErrorsMiddleware",
    "pmhub.middleware.StaticFilesMiddleware",  # WhiteNoise, its file table built once per process
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "scim.middleware.SessionIndexMiddleware",  # user -> session keys, so deprovisioning ends them
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pmhub.middleware.HtmxMessagesMiddleware",  # messages of htmx saves -> HX-Trigger -> a toast
    "pmhub.middleware.OwnErrorPagesMiddleware",
    "pmhub.middleware.UnstorableTextMiddleware",  # NUL in form posts: 400, not a database error
    "pmhub.middleware.LiveTabMiddleware",  # live events are not echoed to the tab that made the change
    "pmhub.dbrouter.ReplicaReadsMiddleware",  # reports/dashboards/exports read the replica if set
]

ROOT_URLCONF = "pmhub.urls"
WSGI_APPLICATION = "pmhub.wsgi.application"
ASGI_APPLICATION = "pmhub.asgi.application"

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
                "pmhub.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections (one per worker thread), checked before reuse: a connection PostgreSQL or
# pgbouncer closed meanwhile is replaced instead of failing the request (decision 1941).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL through Django's backend with a check that sends nothing unless the server closed the
# connection or wrote to it meanwhile (pmhub/backends/postgresql, decision 2302).
POSTGRESQL_ENGINES = {"django.db.backends.postgresql": "pmhub.backends.postgresql"}
DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINES.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Behind pgbouncer in transaction mode a named (server-side) cursor cannot outlive its transaction
# on one server connection: QuerySet.iterator() must use client-side cursors (decision 1941).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
# pmhub.prepared's queries prepared on the server once per connection (PREPARE/EXECUTE: parsed and,
# once PostgreSQL settles on a generic plan, planned once; decision 2310). A statement prepared on one
# server session is unknown on another: off behind a pooler in transaction mode, which
# DISABLE_SERVER_SIDE_CURSORS already says, and with a connection per request (CONN_MAX_AGE=0: each
# statement would be prepared for one use, a round trip more).
DATABASES["default"]["SERVER_PREPARED_STATEMENTS"] = (not DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"]
                                                      and DATABASES["default"]["CONN_MAX_AGE"] != 0)
# No JIT compilation: our queries are short, and JIT kicked in on cost estimates of correlated
# subqueries, spending 275 ms compiling a 100 ms query (roadmap timeline, see docs/performance.md).
# Empty: no startup options (pgbouncer refuses them; set jit=off on the server instead).
_pg_options = env("PG_OPTIONS", default="-c jit=off")
if "postgresql" in DATABASES["default"]["ENGINE"] and _pg_options:
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = _pg_options
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# Reads of reports, dashboards and exports from a replica (pmhub/dbrouter.py): same options as
# the primary; in tests a mirror of it, so the suite runs with the router on.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**DATABASES["default"], **env.db("DATABASE_REPLICA_URL"),
                            "TEST": {"MIRROR": "default"}}
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}),
                                       **DATABASES["replica"].get("OPTIONS", {})}
    DATABASES["replica"]["ENGINE"] = POSTGRESQL_ENGINES.get(DATABASES["replica"]["ENGINE"],
                                                            DATABASES["replica"]["ENGINE"])
DATABASE_ROUTERS = ["pmhub.dbrouter.ReplicaRouter"]
# After a write, a browser reads the primary for this long (longer than the replication lag).
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "pmhub.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Sign-in throttle: failures allowed per account and per client address in the window.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=900)
# Password-reset requests per client address and per e-mail address in a window (a mailbox is not
# flooded; past the address limit the form answers 429, past the e-mail limit no more mail is sent).
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=5)
PASSWORD_RESET_WINDOW = env.int("PASSWORD_RESET_WINDOW", default=3600)
# A sign-up link (sent by e-mail, so that sign-up never tells whether an address has an account) lasts this long.
SIGNUP_LINK_MAX_AGE = env.int("SIGNUP_LINK_MAX_AGE", default=3 * 24 * 3600)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/pico", NODE_MODULES / "@picocss" / "pico" / "css"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/sortablejs", NODE_MODULES / "sortablejs"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/lucide", NODE_MODULES / "lucide-static" / "icons"),  # {% icon %}: pmhub/icons.py
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND", default="django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BASE_DIR / "media"

# Request limits (abuse protection): a body over this size gets 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# --- Redis: broker and cache -------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # The cache lives in its own Redis database, so clearing it never touches the broker's queues.
    _cache_db = env.int("REDIS_CACHE_DB", default=1)
    # Parallel test workers (pytest-xdist gw0, gw1, ...) each get their own cache database, so one
    # worker clearing its cache never resets another's throttle counters.
    _xdist_worker = env("PYTEST_XDIST_WORKER", default="")
    if _xdist_worker.startswith("gw"):
        _cache_db += 2 * int(_xdist_worker[2:])
    _cache_url = env("CACHE_URL", default=f"{REDIS_URL.rsplit('/', 1)[0]}/{_cache_db}")
    CACHES = {"default": {"BACKEND": "pmhub.cache.RedisCache", "LOCATION": _cache_url,
                          "OPTIONS": {"pool_class": "pmhub.cache.SharedConnectionPool"}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Live updates (pmhub/live.py, docs/live.md) ---------------------------------
# Websocket fan-out through the Redis channel layer when REDIS_URL is set; one process's memory
# otherwise (`make run`). The sequence numbers and the recent-events buffer live beside the cache.
if REDIS_URL:
    # redis-py refuses a 101st simultaneous command by default: a crowd of pages reconnecting at once
    # (a deploy) subscribes in one burst, so each web process may open up to this many connections.
    # redis-py 8 gives up on a reply after 5 s by default, exactly channels_redis' blocking-pop
    # timeout: under load the empty reply came late and the reading socket died. 30 s leaves room.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
        "hosts": [{"address": _cache_url, "max_connections": 1000, "socket_timeout": 30}],
        "prefix": "pmhub-live", "capacity": 500, "expiry": 60}}}
    LIVE_REDIS_URL = _cache_url
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    LIVE_REDIS_URL = ""
# Events kept per workspace for a reconnecting client; one further behind is told to reload.
LIVE_BUFFER = env.int("LIVE_BUFFER", default=500)

# --- Celery (see pmhub/celery.py; keys read with the CELERY_ namespace) ------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
# Redis has no acknowledgements of its own: kombu keeps every message a worker has taken but not
# yet acked (acks_late) in an `unacked` hash, indexed by delivery time. A message whose worker died
# stays there until some running worker's restore scan finds it older than the visibility timeout
# and pushes it back on its queue. kombu scans when a worker starts and then every
# unacked_restore_interval * unacked_restore_throttle seconds (10 * 10 = 100 s, kombu's defaults);
# a scan that finds the `unacked_mutex` lock held by another worker is skipped (a worker killed
# while holding it leaves it for up to 5 minutes). So a crashed worker's task runs again after the
# visibility timeout plus about 100 s, as long as one worker is running. The timeout must be longer
# than the longest task (else a task still running is handed to a second worker) and than the
# longest retry countdown (a worker holds a message with an ETA unacked until it is due; our
# retries wait minutes, not hours).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    # Every broker key (queues, the unacked hash and index, the restore lock) starts with it: two
    # installations (or test runs) sharing one Redis database neither restore each other's messages
    # nor skip their scans on each other's lock.
    "global_keyprefix": env("CELERY_BROKER_KEY_PREFIX", default=""),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Periodic tasks, kept in settings and read by beat: each app lists its own in <app>/schedule.py.
CELERY_BEAT_SCHEDULE: dict = {}
for _app in DOMAIN_APPS:
    CELERY_BEAT_SCHEDULE.update(__import__(f"{_app}.schedule", fromlist=["BEAT_SCHEDULE"]).BEAT_SCHEDULE)

# --- E-mail -----------------------------------------------------------------
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
    EMAIL_HOST = env("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "media" / "mail"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PMHub <pmhub@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Discovery intake (docs/decisions/1603-email-intake.md) ----------------------
# Inbound feedback e-mail: `<product token>@INBOUND_EMAIL_DOMAIN`, received by
# `manage.py inbound_smtp` listening on INBOUND_SMTP_BIND (host:port) behind your MX.
INBOUND_EMAIL_DOMAIN = env("INBOUND_EMAIL_DOMAIN", default="inbox.localhost")
INBOUND_SMTP_BIND = env("INBOUND_SMTP_BIND", default="127.0.0.1:2525")
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=1024 * 1024)
# Posts per client address to the embeddable feedback form (and other public discovery endpoints).
DISCOVERY_PUBLIC_RATE = env("DISCOVERY_PUBLIC_RATE", default="20/min")

# --- Outgoing webhooks (docs/decisions/0801-webhooks.md) ----------------------
# Seconds a receiver has to answer one POST; a worker's claim on a delivery lasts three times that.
WEBHOOK_TIMEOUT = env.int("WEBHOOK_TIMEOUT", default=10)
# Every URL the server fetches (webhooks, integrations) must resolve to public addresses only
# (pmhub/outbound.py); these host names or IP networks are allowed although internal.
OUTBOUND_ALLOWED_HOSTS = env.list("OUTBOUND_ALLOWED_HOSTS", default=[])
# Fernet keys that seal secrets at rest (integration URLs and tokens; pmhub/secretbox.py): the first
# encrypts, all decrypt. Empty: one key derived from SECRET_KEY (fine for development only).
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", default=[])

# --- Single sign-on (docs/sso.md) ----------------------------------------------------------------
# Break-glass when a domain requires SSO and the identity provider is down: these addresses, if
# admins of the workspace that requires SSO, may still sign in with a password (each use is logged).
SSO_BREAK_GLASS_EMAILS = env.list("SSO_BREAK_GLASS_EMAILS", default=[])

# --- REST API -----------------------------------------------------------------
# Reverse proxies in front of PMHub: the client address is taken from X-Forwarded-For this many hops
# back, for the API throttle and the sign-in lockout alike (0: REMOTE_ADDR, the header ignored).
NUM_PROXIES = env.int("API_NUM_PROXIES", default=0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pmhub.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny by default: every view names what it allows (see pmhub/api/base.py).
    "DEFAULT_PERMISSION_CLASSES": ["pmhub.api.permissions.DenyAll"],
    "DEFAULT_FILTER_BACKENDS": ["pmhub.api.filters.ScopedFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "pmhub.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pmhub.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "pmhub.api.throttling.TokenRateThrottle",
        "pmhub.api.throttling.AddressRateThrottle",
    ],
    # Client address for the per-address throttle: REMOTE_ADDR unless we sit behind this many proxies
    # (with DRF's default, None, any client could pick its own address through X-Forwarded-For).
    # The sign-in lockout reads the same setting (pmhub.utils.client_address).
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "token": env("API_THROTTLE_TOKEN", default="6000/min"),
        "address": env("API_THROTTLE_ADDRESS", default="12000/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # JSON bounded in size and depth before parsing (pmhub/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "pmhub.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "pmhub.api.renderers.BrowsableAPIRenderer",
    ],
}
API_MAX_PAGE_SIZE = 200
API_MAX_BATCH_SIZE = env.int("API_MAX_BATCH_SIZE", default=1000)
# Usage-event partitions older than this many months are detached and dropped by the daily job
# (adoption/partitions.py); 0 keeps every month. Raw events feed rollup rebuilds: keep at least
# the span a rebuild (time-zone change, backfill) must cover.
ADOPTION_EVENT_RETENTION_MONTHS = env.int("ADOPTION_EVENT_RETENTION_MONTHS", default=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "PMHub API",
    "DESCRIPTION": "Roadmaps, backlog prioritization, KPIs and adoption. Authenticate with "
    "`Authorization: Token <key>` (create a token under Account > API tokens).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Same field name, different choices in two apps: name the enums explicitly.
    "ENUM_NAME_OVERRIDES": {
        "KpiCadenceEnum": "metrics.models.Kpi.Cadence",
        "ReportCadenceEnum": "reports.models.ReportSubscription.Cadence",
        "IdeaStatusEnum": "discovery.models.Idea.Status",
        "InsightStateEnum": "discovery.models.Insight.State",
        "ChannelKindEnum": "integrations.models.Channel.Kind",
        "WebhookDeliveryStatusEnum": "reports.models.WebhookDelivery.Status",
        "CsvImportKindEnum": "discovery.models.CsvImport.Kind",
        "CsvImportStatusEnum": "discovery.models.CsvImport.Status",
        "RoleEnum": "pmhub.models.Role",  # membership roles, an SSO provider's default role and group roles
        "JiraConnectionKindEnum": "integrations.jira.models.JiraConnection.Kind",
        "JiraHealthEnum": "integrations.jira.models.JiraConnection.Health",
        "JiraSyncDirectionEnum": "integrations.jira.models.JiraSyncLog.Direction",
        "JiraFieldDirectionEnum": "integrations.jira.mapping.DIRECTION_CHOICES",
        "DirectionEnum": "metrics.models.Kpi.Direction",  # its name before Jira's directions arrived
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pmhub.api.schema.add_error_responses",
    ],
}

# --- Security -----------------------------------------------------------------
# PMHUB_HTTPS=true when served over TLS (behind a proxy that sets X-Forwarded-Proto).
HTTPS = env.bool("PMHUB_HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
# Sessions are read from the cache (Redis when REDIS_URL is set) and written through to the
# database, so a signed-in page does not pay a session query (a restart of Redis loses nothing).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"},
                # pysaml2 logs each person's NameID and the whole XML at INFO/DEBUG, xmlschema its schema
                # loading: warnings only. Refusals are logged by pmhub.sso (docs/sso.md).
                "saml2": {"level": "WARNING"}, "xmlschema": {"level": "WARNING"}},
}

# Invitations and share links.
INVITATION_TTL_DAYS = 14
