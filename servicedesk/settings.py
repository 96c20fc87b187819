"""Servicedesk settings: every deploy-time value comes from the environment.

Production mode is the default. Development (``DEBUG=1``, which ``make run`` and
``make test`` set) relaxes the secret-key and host requirements and turns on the
development conveniences; nothing else differs between the two.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from servicedesk import pooling, replica, schedule

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_flag(name: str, *, default: bool) -> bool:
    """A yes/no variable; anything unrecognised is a configuration error, not False."""
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


DEBUG = env_flag("DEBUG", default=False)

# --- Secrets and hosts -----------------------------------------------------------------

_DEV_SECRET_KEY = "dev-only-not-secret-servicedesk-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production mode needs a random secret of at least 50 characters "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))"), or set DEBUG=1 for development.'
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (
    len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is too weak for production: "
        "use at least 50 random characters with 5 or more distinct ones."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty. Set it to the comma-separated host names the site is served on."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ----------------------------------------------------------------------

INSTALLED_APPS = [
    "servicedesk.apps.ServicedeskConfig",
    "design.apps.DesignConfig",
    "delivery.apps.DeliveryConfig",
    "feedback.apps.FeedbackConfig",
    "recovery.apps.RecoveryConfig",
    "learning.apps.LearningConfig",  # above recovery, delivery, feedback and design; below the dashboard
    "complaints.apps.ComplaintsConfig",
    "dashboard.apps.DashboardConfig",  # the top layer: after every pillar it composes
    "servicedesk.security.apps.SecurityConfig",
    "servicedesk.inbox.apps.InboxConfig",
    "servicedesk.attachments.apps.AttachmentsConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, for FORM_RENDERER
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servicedesk.security.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "servicedesk.middleware.DatabaseUnavailableMiddleware",
    # First to see the view: a flood is refused before sessions, CSRF or login are looked at.
    "servicedesk.security.middleware.RateLimitMiddleware",
    "servicedesk.security.middleware.MalformedSessionCookieMiddleware",
    # A NUL in a path, query or form is refused before any view hands it to the database.
    "servicedesk.middleware.UnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "servicedesk.middleware.SessionTimeoutMiddleware",
    "servicedesk.security.middleware.ManagerTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"
ASGI_APPLICATION = "servicedesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "servicedesk.context_processors.practice",
            ],
        },
    },
]

# Widgets render through the project's templates, so templates/django/forms/widgets/attrs.html
# can leave out maxlength (no silent cut by the browser; the form says the limit).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Data ------------------------------------------------------------------------------

try:
    DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'servicedesk.sqlite3'}")}
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL Servicedesk understands: {exc}") from None
if DATABASES["default"].get("ENGINE") not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
    raise ImproperlyConfigured(
        "DATABASE_URL is not a database URL Servicedesk understands: use postgres://… or sqlite:///…"
    )
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)  # the embedded default keeps its file under var/ (git-ignored)
    # One web process, one worker and beat share the file: WAL lets readers run beside the
    # writer, and IMMEDIATE transactions queue writers instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", default=60)
    # A query that hangs on a sick database fails instead of tying up a web worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
# DATABASE_POOLER=pgbouncer: DATABASE_URL is pgbouncer in transaction mode (servicedesk/pooling.py).
pooling.configure(DATABASES["default"], pooler=env.str("DATABASE_POOLER", default=""))
# DATABASE_REPLICA_URL: a streaming standby for the dashboard, reports and exports (servicedesk/replica.py).
DATABASE_ROUTERS, REPLICA_STICKY_SECONDS, REPLICA_MAX_LAG_SECONDS = replica.setup(env, DATABASES, MIDDLEWARE)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "servicedesk.User"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "servicedesk.caching.RedisCache",  # Django's, keeping its Redis clients
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sd",
            # Rate limits and caches degrade, pages keep working, when Redis is slow or gone.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Accounts and sessions -------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions end after 30 minutes idle and 12 hours in all (SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", default=30, minimum=1))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_MAX_HOURS", default=12, minimum=1))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3  # a welcome link stays valid for three days

# --- Internationalisation --------------------------------------------------------------

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en-gb")
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

PRACTICE_NAME = env.str("PRACTICE_NAME", default="Riverside Family Practice")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Feedback ----------------------------------------------------------------------------

# A kiosk form sent back sooner than this after it was shown is treated as a bot (asked to resend).
FEEDBACK_MIN_FILL_SECONDS = env_int("FEEDBACK_MIN_FILL_SECONDS", default=3)
# ... or later than this many minutes (and each form is accepted once): a bot cannot replay one form.
FEEDBACK_FORM_MAX_MINUTES = env_int("FEEDBACK_FORM_MAX_MINUTES", default=30, minimum=1)
# A kiosk form left half-filled is cleared after this long; the thank-you page returns after this.
FEEDBACK_KIOSK_IDLE_SECONDS = env_int("FEEDBACK_KIOSK_IDLE_SECONDS", default=90, minimum=10)
FEEDBACK_KIOSK_THANKS_SECONDS = env_int("FEEDBACK_KIOSK_THANKS_SECONDS", default=15, minimum=3)
# Breakdowns resting on fewer responses than this show "too few to show".
FEEDBACK_SMALL_NUMBER = env_int("FEEDBACK_SMALL_NUMBER", default=5, minimum=1)
FEEDBACK_RETENTION_MONTHS = env_int("FEEDBACK_RETENTION_MONTHS", default=0)  # feedback's months kept; 0: all
# The audit log's months kept (PostgreSQL drops older ones whole); 0: all. It holds no patient data.
AUDIT_RETENTION_MONTHS = env_int("AUDIT_RETENTION_MONTHS", default=0)

# --- Static files ----------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Photos and files attached to incidents, checks and drills: private, never under a public URL (every
# read goes through servicedesk.attachments.views). A folder under var/ by default; in production any
# S3-compatible bucket through django-storages (install it, then set ATTACHMENTS_S3_BUCKET; see README).
ATTACHMENTS_DIR = Path(env.str("ATTACHMENTS_DIR", default=str(VAR_DIR / "attachments")))
ATTACHMENTS_S3_BUCKET = env("ATTACHMENTS_S3_BUCKET", default="")
_S3_OPTIONS = {  # private objects, never a public URL; fixed names, so processing twice replaces
    "bucket_name": ATTACHMENTS_S3_BUCKET, "default_acl": "private", "querystring_auth": True,
    "file_overwrite": True,
    **{option: env(f"ATTACHMENTS_S3_{name}", default=None) for option, name in (
        ("endpoint_url", "ENDPOINT_URL"), ("region_name", "REGION"), ("access_key", "ACCESS_KEY_ID"),
        ("secret_key", "SECRET_ACCESS_KEY"))},
    "location": env("ATTACHMENTS_S3_PREFIX", default="attachments"),
}  # fmt: skip
_FOLDER_OPTIONS = {"location": str(ATTACHMENTS_DIR), "base_url": None, "file_permissions_mode": 0o600,
                   "directory_permissions_mode": 0o700}  # fmt: skip
ATTACHMENTS_STORAGE = (
    {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _S3_OPTIONS} if ATTACHMENTS_S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": _FOLDER_OPTIONS}
)  # fmt: skip
# Bigger files are refused with a message; pictures over the inline size are resized by the worker.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", default=10, minimum=1) * 1024 * 1024
ATTACHMENT_INLINE_BYTES = env_int("ATTACHMENT_INLINE_MB", default=3, minimum=0) * 1024 * 1024

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": ATTACHMENTS_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Development serves static files straight from static/ (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- Messages out ----------------------------------------------------------------------

# The console, file and in-memory email backends and the console SMS backend send nothing: the
# default in development only. In production `check --deploy` refuses them (servicedesk.checks)
# unless ALLOW_INSECURE_TRANSPORTS names the transport ("email", "sms" or "email,sms"), e.g. for a
# demonstration site. Chosen so in production, the console backends print that a message was
# withheld, never its recipient or text (servicedesk.notify).
ALLOW_INSECURE_TRANSPORTS = {
    name.strip().lower() for name in env.list("ALLOW_INSECURE_TRANSPORTS", default=[]) if name.strip()
}
if ALLOW_INSECURE_TRANSPORTS - {"email", "sms"}:
    raise ImproperlyConfigured(
        "ALLOW_INSECURE_TRANSPORTS names transports that may send nothing on purpose: "
        f"email, sms or email,sms; got {sorted(ALLOW_INSECURE_TRANSPORTS)}."
    )
try:
    _email = env.email_url_config(env.str("EMAIL_URL", default="") or "consolemail://")
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"EMAIL_URL is not an email URL Servicedesk understands: {exc}") from None
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    _email["EMAIL_BACKEND"] = "servicedesk.notify.ConsoleEmailBackend"  # withholds messages in production
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{PRACTICE_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10
SMS_BACKEND = env.str("SMS_BACKEND", default="") or "servicedesk.notify.ConsoleSmsBackend"
SMS_SENDER = env.str("SMS_SENDER", default="Practice")
# Twilio (SMS_BACKEND=servicedesk.notify.TwilioSmsBackend): the account's SID and auth token, which
# also signs the delivery receipts Twilio posts to SITE_URL/sms/receipts/twilio/. `check --deploy`
# refuses the backend without them. TWILIO_API_BASE: another region's API, or a test's fake Twilio.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# The practice's mailbox, read every two minutes when set: imaps://user:password@host:993/INBOX.
# Emails larger than INBOX_MAX_BYTES are kept as their headers and a note (servicedesk.inbox).
INBOX_URL = env.str("INBOX_URL", default="")
INBOX_MAX_BYTES = env_int("INBOX_MAX_BYTES", default=20_000_000, minimum=100_000)
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com").rstrip("/")

# --- Delivery checklists ---------------------------------------------------------------

# The practice's shifts, for "each shift" checklists (each is due at its shift's end).
DELIVERY_SHIFTS = env.str("DELIVERY_SHIFTS", default="Morning=08:00-13:00,Afternoon=13:00-18:30")
# How long before its deadline the responsible person is reminded of a checklist (once).
DELIVERY_REMINDER_MINUTES = env_int("DELIVERY_REMINDER_MINUTES", default=60, minimum=1)

# --- Background work (Celery) ----------------------------------------------------------

# No REDIS_URL: Celery's filesystem transport under var/, so `make run` needs no broker.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers an unacknowledged task after this long; no task may be scheduled
        # further ahead than this (we never use long countdowns: due times live in the database).
        "visibility_timeout": 3600,
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
    }
else:
    for folder in ("broker", "broker-processed", "broker-control"):
        (VAR_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        # Broadcast (control) exchanges: kombu defaults to ./control, inside the source tree.
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Development: what the console email and SMS backends print in the worker goes straight to the
# terminal, links in full, so a developer can follow a set-password or survey link. In production
# anything a worker prints goes through logging, where tokens are redacted.
CELERY_WORKER_REDIRECT_STDOUTS = not DEBUG
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that enqueues work must never hang on a dead broker: one quick retry, then
# give up (servicedesk.queue logs it; the next sweep finds the work in the database).
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Every periodic job is a sweep (the only schedule), and each task's queue: see servicedesk/schedule.py.
CELERY_BEAT_SCHEDULE = schedule.beat_schedule(
    escalation_minutes=env_int("RECOVERY_ESCALATION_SWEEP_MINUTES", default=3, minimum=1)
)
CELERY_TASK_QUEUES = schedule.task_queues()  # a worker without -Q consumes them all
CELERY_TASK_DEFAULT_QUEUE = schedule.DEFAULT_QUEUE
CELERY_TASK_ROUTES = schedule.task_routes()

# --- The outbox (every email and SMS) --------------------------------------------------------

# A refused message is tried this many times in all (30 s, 1, 2, 4 min apart…) before it is failed.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", default=5, minimum=1)
# A send claimed this long ago and never finished (the worker died) is failed for a manager to decide.
OUTBOX_SENDING_TIMEOUT = env_int("OUTBOX_SENDING_TIMEOUT", default=600, minimum=60)
# Sent messages (their bodies are dropped when sent) are deleted after this many days.
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", default=30, minimum=1)

# --- Service design ----------------------------------------------------------------------

# Goal owners are reminded this many days before a goal's review date.
DESIGN_REVIEW_REMINDER_DAYS = env_int("DESIGN_REVIEW_REMINDER_DAYS", default=14, minimum=1)
# Shown beside goal budgets ("what can we afford"), e.g. £, €, $.
CURRENCY_SYMBOL = env.str("CURRENCY_SYMBOL", default="£")

# --- Recovery --------------------------------------------------------------------------

# The most escalation steps one sweep climbs; the rest wait for the next sweep a few minutes later.
RECOVERY_ESCALATION_BATCH = env_int("RECOVERY_ESCALATION_BATCH", default=2000, minimum=1)
# Reminders (actions due today, overdue drills) go out from this local hour, not at midnight.
RECOVERY_REMINDER_HOUR = env_int("RECOVERY_REMINDER_HOUR", default=8)
# Recurrence: another incident with the same category and touchpoint within this many days.
RECOVERY_RECURRENCE_DAYS = env_int("RECOVERY_RECURRENCE_DAYS", default=30, minimum=1)

# --- Survey invitations (feedback) -----------------------------------------------------------

# Key for the hashes of patients' email addresses and phone numbers (the opt-out list, the
# frequency cap). Keep it stable: a new key forgets who opted out. It defaults to SECRET_KEY,
# so set it explicitly before you ever rotate SECRET_KEY.
CONTACT_HASH_KEY = env.str("CONTACT_HASH_KEY", default="") or SECRET_KEY
# Country calling code for national mobile numbers in visit lists (07700 900123 → +447700900123).
INVITATION_PHONE_COUNTRY_CODE = env.str("INVITATION_PHONE_COUNTRY_CODE", default="44")
INVITATION_IMPORT_MAX_BYTES = env_int("INVITATION_IMPORT_MAX_BYTES", default=20 * 1024 * 1024, minimum=1024)
INVITATION_IMPORT_MAX_ROWS = env_int("INVITATION_IMPORT_MAX_ROWS", default=100_000, minimum=1)
# Visit lists up to this many rows are checked and imported while the manager waits; longer ones
# in the background, with a progress bar.
INVITATION_IMPORT_INLINE_ROWS = env_int("INVITATION_IMPORT_INLINE_ROWS", default=1000, minimum=0)

# --- Manager dashboard -----------------------------------------------------------------

# A goal's hourly measurement (design.tasks.measure_goals) older than this is re-evaluated live.
DASHBOARD_GOAL_MEASUREMENT_MAX_AGE = env_int(
    "DASHBOARD_GOAL_MEASUREMENT_MAX_AGE_MINUTES", default=90, minimum=1
)
# "Needs attention today" looks back this many days for missed checks and unanswered negative feedback.
DASHBOARD_ATTENTION_DAYS = env_int("DASHBOARD_ATTENTION_DAYS", default=7, minimum=1)
# The summary sweep checks this many days back for days whose feedback changed (imports, erasures) ...
DASHBOARD_SUMMARY_CHECK_DAYS = env_int("DASHBOARD_SUMMARY_CHECK_DAYS", default=400, minimum=2)
# ... and this many days of visits for invitations answered since they were counted.
DASHBOARD_INVITATION_CHECK_DAYS = env_int("DASHBOARD_INVITATION_CHECK_DAYS", default=45, minimum=2)
# The weekly digest goes out on this weekday (0 = Monday) from this local hour.
DASHBOARD_DIGEST_WEEKDAY = env_int("DASHBOARD_DIGEST_WEEKDAY", default=0)
DASHBOARD_DIGEST_HOUR = env_int("DASHBOARD_DIGEST_HOUR", default=7)
if DASHBOARD_DIGEST_WEEKDAY > 6 or DASHBOARD_DIGEST_HOUR > 23:
    raise ImproperlyConfigured(
        "DASHBOARD_DIGEST_WEEKDAY must be 0-6 (Monday-Sunday) and DASHBOARD_DIGEST_HOUR 0-23."
    )

# --- Security --------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The preload directive only matters once someone submits the domain to the browsers' list.
    SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username, that
# username is paused for LOGIN_LOCKOUT_MINUTES, whether or not the account exists, and the page
# says the same either way. Counted per username (not per address), so spreading the guesses over
# many machines does not help; the login rate limit below stops one machine trying many usernames.
AXES_ENABLED = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # shared by every web process
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for locking by address too. A practice's whole team often shares one address
# (one NAT): five typos would lock everyone out. The per-address rate limit on the login form
# (RATE_LIMITS["login"]) is what stops one machine from guessing across many usernames.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "servicedesk.security.lockout.locked_out"
AXES_USERNAME_CALLABLE = "servicedesk.security.lockout.normalised_username"
AXES_CLIENT_IP_CALLABLE = "servicedesk.security.ratelimit.client_ip"

# Two-factor for managers (django-otp, TOTP authenticator apps).
OTP_TOTP_ISSUER = f"Servicedesk {PRACTICE_NAME}"
OTP_TOTP_THROTTLE_FACTOR = 1  # after each wrong code, wait 1, 2, 4, 8 … seconds before the next try

# Number of reverse proxies in front of gunicorn that append to X-Forwarded-For (0: none, the
# client connects directly). Rate limits and the login lockout use the address this yields, and
# X-Forwarded-Proto is believed only when it is above 0.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", default=0)
# Only a proxy of ours may say the visitor used HTTPS: with none, anyone could send the header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_HOPS else None

# Rate limits per client address: "N/window" with window s, m, h or d (e.g. 5/15m). "public"
# applies to every page that needs no login (patients' forms, login, health); other names
# are view names with tighter limits. Off only for benchmarks (RATE_LIMIT_ENABLED=0): this one
# switch turns off every limit, the kiosk's included.
RATE_LIMIT_ENABLED = env_flag("RATE_LIMIT_ENABLED", default=True)
_PUBLIC_LIMITS = {"GET": "120/m", "HEAD": "120/m", "POST": "30/m", "*": "30/m"}
RATE_LIMITS = {
    "public": _PUBLIC_LIMITS,
    # Answers from one kiosk or phone (a waiting-room tablet is one address: leave room for it).
    "patient:kiosk": {**_PUBLIC_LIMITS, "POST": "20/10m"},
    # A complaint is written, not tapped: a few a quarter-hour from one address is plenty.
    "complaints:tell_us": {**_PUBLIC_LIMITS, "POST": "5/15m"},
    "login": {"GET": "60/m", "POST": "10/m"},
    "password_reset": {"GET": "30/m", "POST": "5/15m"},
    "password_reset_confirm": {"GET": "30/m", "POST": "10/15m"},
    "healthz": {"GET": "60/m"},
    # The practice-management system posts each visit as it ends; a bearer token guards it.
    "api_visits": {"POST": "300/m"},
    # Twilio posts up to three receipts per text (sent, delivered or failed) from its own addresses.
    "sms_receipt": {"POST": "600/m"},
    "security:two_factor_verify": {"POST": "10/m"},
    "security:two_factor_setup": {"POST": "10/m"},
}

# Content-Security-Policy: scripts and styles only from our own files, never inline, so an
# injected <script> or onclick= cannot run. Bootstrap's CSS draws its icons from data: URIs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_flag("CSP_REPORT_ONLY", default=False)

# --- Logging ---------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One filter on the one handler that web, worker and beat write through: no token, address
    # or phone number in any line (servicedesk.logging).
    "filters": {"redact_personal_data": {"()": "servicedesk.logging.RedactPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's own console and admin-email handlers, which would write request
        # paths (and so patients' tokens) without the redaction filter.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Twilio's client logs each request's URL and headers at INFO: noise, and the account SID.
        "twilio": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
