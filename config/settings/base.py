"""Settings shared by every environment.

The environment is read here, once, and nowhere else. Every variable the
project reads is listed in ``ENV_DEFAULTS`` with its default, so the README's
configuration table and ``.env.example`` can be checked against one place.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from core.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

# name -> (type, default). A default of None means "must be set" where a
# setting module demands it (production does, for SECRET_KEY and HASH_KEY).
ENV_DEFAULTS: dict[str, tuple[type, object]] = {
    "DEBUG": (bool, False),
    "SECRET_KEY": (str, None),
    "HASH_KEY": (str, None),
    "ALLOWED_HOSTS": (list, ["127.0.0.1", "localhost"]),
    "CSRF_TRUSTED_ORIGINS": (list, []),
    "DATABASE_URL": (str, f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
    "REDIS_URL": (str, ""),
    "EMAIL_URL": (str, "consolemail://"),
    "DEFAULT_FROM_EMAIL": (str, "Personvern <personvern@example.no>"),
    "PRIVACY_OFFICER_EMAIL": (str, "personvern@example.no"),
    # consent-authority: the controller's phone on consent receipts (Kantara v1.1 requires it).
    "CONTROLLER_PHONE": (str, "+47 00 00 00 00"),
    # Retention: a run that would remove more than this share of a category
    # stops and alerts the privacy officer; rows per batch; lock lease.
    "RETENTION_MAX_SHARE": (float, 0.4),
    "RETENTION_BATCH_SIZE": (int, 1000),
    "RETENTION_LOCK_LEASE_SECONDS": (int, 300),
    "SITE_URL": (str, "http://127.0.0.1:8000"),
    "PRIVATE_MEDIA_ROOT": (str, str(VAR_DIR / "private")),
    "STATIC_ROOT": (str, str(BASE_DIR / "staticfiles")),
    "CELERY_FILESYSTEM_DIR": (str, str(VAR_DIR / "celery")),
    "LOG_LEVEL": (str, "INFO"),
    "SECURE_SSL_REDIRECT": (bool, True),
    # hardening: HSTS for subdomains and browser preloading (production only).
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": (bool, True),
    "SECURE_HSTS_PRELOAD": (bool, True),
    # Reverse proxies in front of the app (CIDR networks) whose X-Forwarded-For is
    # believed (core/http.py: client_ip). Empty: the header is ignored.
    "TRUSTED_PROXIES": (list, []),
    # A copy of the erasure journal outside the database (keyed hashes only), so
    # that erasure_replay still knows every erasure after a restore; empty: off.
    "ERASURE_JOURNAL_FILE": (str, ""),
    # --- api: the integration API and its webhooks ---
    # Largest request body the API reads (bytes; the bulk consent check and imports).
    "API_MAX_BODY_BYTES": (int, 20 * 1024 * 1024),
    # Calls per minute a new API client may make (each client has its own in the admin).
    "API_DEFAULT_RATE_LIMIT": (int, 600),
    # Failed webhook deliveries in a row before the endpoint is paused and the privacy officer told.
    "WEBHOOK_CIRCUIT_THRESHOLD": (int, 20),
    # hardening: the audit chain's daily head hash is appended here, outside the
    # database, so a restore or a rewrite of the whole chain is noticed; empty: log only.
    "AUDIT_ANCHOR_FILE": (str, ""),
    # Test harness only: where the real worker started by the tests writes its mail.
    "TEST_WORKER_MAIL_DIR": (str, str(VAR_DIR / "test-mail")),
    # staff-roles: two-factor login (off in `local` for the demo), lockout, staff sessions.
    "STAFF_2FA_REQUIRED": (bool, True),
    "STAFF_LOCKOUT_FAILURES": (int, 5),
    "STAFF_LOCKOUT_MINUTES": (int, 30),
    "STAFF_SESSION_HOURS": (int, 9),
    "STAFF_SESSION_IDLE_MINUTES": (int, 30),
}

env = environ.Env(**ENV_DEFAULTS)
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY")
# Key for the keyed hashes that must outlive a person's erasure (suppression
# list, erasure journal). Kept apart from SECRET_KEY so rotating one does not
# silently invalidate the other.
HASH_KEY = env("HASH_KEY")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL").rstrip("/")
TRUSTED_PROXIES = env("TRUSTED_PROXIES")
PRIVACY_OFFICER_EMAIL = env("PRIVACY_OFFICER_EMAIL")
CONTROLLER_PHONE = env("CONTROLLER_PHONE")
ERASURE_JOURNAL_FILE = env("ERASURE_JOURNAL_FILE")
AUDIT_ANCHOR_FILE = env("AUDIT_ANCHOR_FILE")

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "django_celery_beat",
    "crispy_forms",
    "crispy_bootstrap5",
    # --- api ---
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # staff-roles: two-factor devices (TOTP, backup codes) and the login lockout.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]
LOCAL_APPS = [
    "core",
    "subjects",
    "consent",
    "requests_dsar",
    "rights",
    "retention",
    # --- api ---
    "api",
    # staff-roles: roles, custom permissions, two-factor login, lockout.
    "staff",
    # accountability: recipients, disclosures, breaches, records of processing, dashboard (issue 12)
    "accountability",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# api: the entries from api.middleware are the named middleware itself (a subclass), skipped
# for the JSON API (/api/v1/), which authenticates by key and has no login, staff session,
# second factor, flash message or page; every other request, the admin's and the portal's,
# runs them as before (api.middleware.not_for_api; issue 10, the consent check under load).
# Sessions and CSRF stay as they are: untouched, they cost an API call next to nothing, and
# Django's deploy checks (security.W003, W010 to W013) look for them by these names.
MIDDLEWARE = [
    # hardening: a request id on every log line, and one scrubbed line per request.
    "core.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # api: answers given outside DRF under /api/ (the input guard below, 404, 500) as problem documents.
    "api.middleware.ApiProblemMiddleware",
    # hardening: NUL, invalid UTF-8 and non-ids answer 400 before any query.
    "core.middleware.RejectMalformedInputMiddleware",
    # hardening: a Content-Security-Policy on every response (settings below; django-csp's,
    # and a fixed "default-src 'none'" for the JSON API).
    "api.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "api.middleware.AuthenticationMiddleware",  # django.contrib.auth's
    # staff-roles: two-factor state, the staff session's limits, then the forced enrolment.
    "api.middleware.OTPMiddleware",  # django_otp's
    "api.middleware.StaffSessionMiddleware",  # staff.middleware's
    "api.middleware.StaffTwoFactorMiddleware",  # staff.middleware's
    "api.middleware.MessageMiddleware",  # django.contrib.messages'
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # staff-roles: django-axes last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = 60
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web process read while the Celery worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The public pages' fixed parts ({% cache %} in the portal's templates), rendered once per
# language and process: they depend on the code and the translations only, which change
# with a deploy (a new process), never at run time. In each process's memory, not Redis,
# so a new release never reads a fragment an older one wrote (issue 9: template rendering
# was most of a portal page's time under load).
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
    "TIMEOUT": None,
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Job applicants' documents: outside any served folder, reached only through
# a staff-only view (subjects.views.application_document).
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT")

vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery. With REDIS_URL: Redis as broker. Without: kombu's filesystem
# transport, which needs no server yet runs a real worker and beat locally.
CELERY_FILESYSTEM_DIR = Path(env("CELERY_FILESYSTEM_DIR"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    _queue_dir = CELERY_FILESYSTEM_DIR / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (CELERY_FILESYSTEM_DIR / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        # Broadcast bindings (celery inspect/control); kombu's default is ./control.
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Deletion jobs must be safe to retry (retention): acknowledge a task when it
# has finished, not when it starts; requeue it when its worker process dies;
# take one task at a time; and stop a task before Redis's visibility timeout
# would hand its still-unacknowledged message to a second worker
# (retention.checks fails `check` if the time limit is not the shorter).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 50 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 45 * 60

RETENTION_MAX_SHARE = env("RETENTION_MAX_SHARE")
RETENTION_BATCH_SIZE = env("RETENTION_BATCH_SIZE")
# A sweep renews its lease after every batch; a worker killed mid-run leaves
# the lock to expire after this long, then the next run takes over.
RETENTION_LOCK_LEASE_SECONDS = env("RETENTION_LOCK_LEASE_SECONDS")

# hardening: structured logs (core/logging.py): every line scrubbed of query strings,
# tokens, email addresses and phone numbers, with the request id; JSON in production.
LOG_LEVEL = env("LOG_LEVEL")
LOGGING = logging_config(json=False, level=LOG_LEVEL)

LOGIN_URL = "admin:login"

# --- hardening: Content-Security-Policy (django-csp) ---------------------------------------------
# Art. 32: a script injected into a page (a name, a note) cannot run, and nothing is
# loaded from a third party. No inline script anywhere; inline style *attributes*
# (the admin's and a few tables') are allowed, <style> blocks are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Periodic tasks, declared here and created in django-celery-beat's tables
# after migrate (core.schedules); staff change them in the admin afterwards.
PERIODIC_TASKS: dict[str, dict[str, object]] = {
    "worker heartbeat": {
        "task": "core.tasks.heartbeat",
        "every_seconds": 60,
        "description": "Shows in /healthz that the worker and beat are alive.",
    },
    "data-subject request reminders": {
        "task": "requests_dsar.tasks.requests_send_reminders",
        "crontab": {"minute": "0", "hour": "7"},
        "description": "Reminds assignees of deadlines coming up and of overdue requests (Art. 12(3)).",
    },
    "purge unconfirmed data-subject requests": {
        "task": "requests_dsar.tasks.requests_purge_unconfirmed",
        "crontab": {"minute": "30", "hour": "3"},
        "description": "Deletes requests nobody confirmed by email within 30 days.",
    },
    "retention sweep": {
        "task": "retention.tasks.retention_sweep",
        "crontab": {"minute": "30", "hour": "3"},
        "description": "Deletes or anonymises what the retention policies make due (Art. 5(1)(e)).",
    },
    "consent: notice campaigns": {
        "task": "consent.tasks.notice_campaigns_resume",
        "crontab": {"minute": "15"},
        "description": "Emails every active contact about a material change of the privacy notice before it "
        "takes effect; resumes a campaign a stopped worker left unfinished.",
    },
    "consent: Art. 14 notices": {
        "task": "consent.tasks.art14_notices_send",
        "crontab": {"minute": "0", "hour": "7"},
        "description": "Tells contacts collected from someone else where we got their data (Art. 14), "
        "within a month of collection, once.",
    },
    # hardening: the audit trail's hash chain (Art. 32).
    "audit chain verification": {
        "task": "core.tasks.audit_chain_verify",
        "crontab": {"minute": "10", "hour": "2"},
        "description": "Verifies the audit trail's hash chain, emails the privacy officer on a break and "
        "writes the head hash to the log and AUDIT_ANCHOR_FILE.",
    },
    "consent: expire unconfirmed sign-ups": {
        "task": "consent.tasks.consent_confirmations_expire",
        "crontab": {"minute": "45", "hour": "4"},
        "description": "Deletes web sign-ups nobody confirmed within CONSENT_CONFIRMATION_DAYS.",
    },
    # --- accountability (issue 12) ---
    "accountability: recipient reminders": {
        "task": "accountability.tasks.recipients_send_reminders",
        "crontab": {"minute": "10", "hour": "7"},
        "description": "Tells the privacy officer of processing agreements due for review within 30 days "
        "and of transfers outside the EEA without a mechanism (Art. 28, 44).",
    },
    "accountability: breach clock reminders": {
        "task": "accountability.tasks.breaches_send_reminders",
        "every_seconds": 900,
        "description": "Reminds the privacy officer 24, 48 and 68 hours after a breach was discovered, "
        "while Datatilsynet is neither notified nor a decision not to notify taken (Art. 33(1)).",
    },
    "accountability: resume breach messages": {
        "task": "accountability.tasks.breach_communications_resume",
        "every_seconds": 900,
        "description": "Restarts an Art. 34 message to the people concerned that a stopped worker left "
        "unfinished.",
    },
    "accountability: keep the records of processing": {
        "task": "accountability.tasks.processing_record_snapshot",
        "crontab": {"minute": "50", "hour": "23"},
        "description": "Keeps a version of the records of processing (Art. 30) when anything changed, "
        "so the record of a past date can be shown again.",
    },
    "accountability: dashboard figures": {
        "task": "accountability.tasks.dashboard_refresh",
        "every_seconds": 600,
        "description": "Recomputes the privacy officer's dashboard trends and deletions due, so the page "
        "itself never scans the register.",
    },
}

# Data-subject requests (requests_dsar): link lifetimes, reminders and the
# portal's rate limits (attempts, per seconds), per IP address and per address.
DSAR_VERIFY_LINK_HOURS = 48
DSAR_STATUS_LINK_DAYS = 120
DSAR_DOWNLOAD_LINK_HOURS = 72
DSAR_REMIND_DAYS_BEFORE = 5
DSAR_UNCONFIRMED_KEEP_DAYS = 30
DSAR_RATE_LIMITS = {
    "submit_ip": (10, 3600),
    "submit_email": (3, 3600),
    "verify_ip": (20, 3600),
    "verify_email": (10, 3600),
    "link_ip": (30, 3600),
}

# --- removal-doors: nothing outlives its purpose (issue 8, item 9; Art. 5(1)(e)) ---
# An access or portability answer (a full copy of the person's data) is deleted
# this many days after the request closed; a portal session lasts this many
# minutes; a data subject's IP address in the audit trail and the request
# history is emptied after this many days. Declared in requests_dsar/personal_data.py
# and core/personal_data.py, shown in the access report and the admin.
DSAR_ANSWER_FILE_KEEP_DAYS = 30
DSAR_PORTAL_SESSION_MINUTES = 120
AUDIT_SUBJECT_IP_KEEP_DAYS = 90
PERIODIC_TASKS.update(
    {
        "data-subject requests: delete old answer files": {
            "task": "requests_dsar.tasks.requests_answer_files_expire",
            "crontab": {"minute": "40", "hour": "3"},
            "description": "Deletes access and portability answers DSAR_ANSWER_FILE_KEEP_DAYS (30) days "
            "after the request closed (Art. 5(1)(e)).",
        },
        "data subjects' IP addresses: empty after their period": {
            "task": "requests_dsar.tasks.subject_ips_expire",
            "crontab": {"minute": "50", "hour": "3"},
            "description": "Empties the IP address of data subjects in the audit trail and the request "
            "history after AUDIT_SUBJECT_IP_KEEP_DAYS (90) days (Art. 5(1)(e)).",
        },
        "sessions: clear expired": {
            "task": "requests_dsar.tasks.sessions_clear_expired",
            "crontab": {"minute": "20", "hour": "4"},
            "description": "Deletes expired sessions (clearsessions); a portal session names a request.",
        },
    }
)

# Consent (consent/): how long a double opt-in link and an unsubscribe link
# stay valid, and how many contacts one notice-campaign task emails.
CONSENT_CONFIRMATION_DAYS = 7
CONSENT_UNSUBSCRIBE_LINK_DAYS = 365
CONSENT_NOTICE_BATCH_SIZE = 200

# --- api: the integration API (api/) and its signed webhooks (api/webhooks/) ---
API_MAX_BODY_BYTES = env("API_MAX_BODY_BYTES")
API_DEFAULT_RATE_LIMIT = env("API_DEFAULT_RATE_LIMIT")
WEBHOOK_CIRCUIT_THRESHOLD = env("WEBHOOK_CIRCUIT_THRESHOLD")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Personvern integration API",
    "DESCRIPTION": "Consent checks, contacts, interactions, suppression and data-subject requests "
    "for the company's other systems; errors are RFC 9457 problem documents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI and Redoc from our own static files, never a CDN (CSP, availability).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
PERIODIC_TASKS["api: webhook retries"] = {
    "task": "api.tasks.webhooks_deliver_due",
    "every_seconds": 60,
    "description": "Sends webhook deliveries whose retry has come (exponential backoff, about three days).",
}
PERIODIC_TASKS["api: forget idempotent answers"] = {
    "task": "api.tasks.idempotency_forget",
    "crontab": {"minute": "50", "hour": "3"},
    "description": "Deletes the stored first answers of API calls older than a day.",
}
# Accountability (accountability/): people told of a breach per task (Art. 34).
BREACH_COMMUNICATION_BATCH_SIZE = 200
# Staff access (staff/): two-factor login, lockout, sessions. Art. 32: a staff
# login reaches every personal fact the company holds.
# Two-factor login (django-otp): every staff user enrols a TOTP app at first
# login and gets single-use backup codes; off only in `local` for the demo.
STAFF_2FA_REQUIRED = env("STAFF_2FA_REQUIRED")
OTP_TOTP_ISSUER = "Personvern"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # no TOTP key or backup code on an admin page
STAFF_BACKUP_CODES = 10
# Lockout (django-axes) after repeated failed logins, per user name and per
# client address separately; the address is the one core.http.client_ip vouches for.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env("STAFF_LOCKOUT_FAILURES")
AXES_COOLOFF_TIME = env("STAFF_LOCKOUT_MINUTES") / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"
AXES_VERBOSE = False  # its log lines carry user names and addresses
# Staff sessions end after a working day, or after half an hour without a
# request (staff.middleware.StaffSessionMiddleware, on the server); login rotates
# the key. The cookie's own age stays Django's: it also carries portal visitors.
STAFF_SESSION_SECONDS = env("STAFF_SESSION_HOURS") * 3600
STAFF_SESSION_IDLE_SECONDS = env("STAFF_SESSION_IDLE_MINUTES") * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
