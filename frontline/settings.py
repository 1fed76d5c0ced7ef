"""Django settings for Frontline.

Everything that differs between a laptop demo and a city deployment comes from the
environment: DATABASE_URL (sqlite:///PATH or postgres://...), FRONTLINE_DATA_DIR,
FRONTLINE_SECRET_KEY, FRONTLINE_DEBUG, FRONTLINE_ALLOWED_HOSTS, FRONTLINE_CITY, and the
sign-in and deployment settings of the "Trust" block below.
"""

import os
import secrets
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent

# --- Trust: files -------------------------------------------------------------------------
# The database (and its -wal/-shm), uploaded sheets and exports hold a city's ID numbers:
# everything this process creates is readable by its owner only (files 0600, folders
# 0700). Settings are imported first by every entry point (CLI, WSGI, tests), so the umask
# is set here, before any file is opened.
os.umask(0o077)

# The embedded database, the secret key and uploaded sheets live in one data folder,
# so that a demo never writes into the installed package.
DATA_DIR = Path(os.environ.get("FRONTLINE_DATA_DIR", Path.cwd() / "data")).resolve()


def _private_data_dir() -> None:
    # A folder made before the umask (an older version, a hand-made ./data) is closed too.
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = DATA_DIR.stat().st_mode
    # Never a shared folder such as /tmp (sticky): closing it would break the machine.
    if mode & 0o077 and not mode & stat.S_ISVTX and DATA_DIR.stat().st_uid == os.getuid():
        DATA_DIR.chmod(0o700)


_private_data_dir()


def _secret_key() -> str:
    if key := os.environ.get("FRONTLINE_SECRET_KEY"):
        return key
    # Generated once per data folder: sessions survive restarts without anyone having
    # to invent a key, and no key is ever committed.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("FRONTLINE_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("FRONTLINE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
    ","
)

# The city is the root of the region tree; one per deployment.
FRONTLINE_CITY = os.environ.get("FRONTLINE_CITY", "六安市")
# Resident searches per account and minute (web and API together); 0 turns the limit off.
FRONTLINE_SEARCH_PER_MINUTE = int(os.environ.get("FRONTLINE_SEARCH_PER_MINUTE", "60"))
# Hours on duty per person and week past which the person's page asks for rest (轮休).
FRONTLINE_DUTY_WEEKLY_HOURS = int(os.environ.get("FRONTLINE_DUTY_WEEKLY_HOURS", "60"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "frontline.core",
    "frontline.accounts",
    "frontline.territory",
    "frontline.people",
    "frontline.api",
    "frontline.audit",
    "frontline.requests",
    "django_tasks",
    "django_tasks_db",
    "frontline.duty",
    "frontline.health",
    "frontline.supervision",
    # Last, so that its checks and signals see every app above.
    "axes",
    "csp",
]

MIDDLEWARE = [
    "frontline.core.middleware.ForwardedForMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, above the no-store middleware: they stay cacheable.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "frontline.core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "frontline.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "frontline.core.middleware.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "frontline.core.middleware.PermissionDeniedMiddleware",
    # Last: it turns a lockout flagged during the view into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "frontline.urls"

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
                "frontline.accounts.policy.policy_context",
            ],
        },
    },
]

WSGI_APPLICATION = "frontline.wsgi.application"


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Each server thread keeps its connection (a new one costs PostgreSQL a process
        # fork and the handshake, several ms per request), checked before a request's
        # first query reuses it, so that a database restart costs no request a 500.
        db: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
        )
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "frontline.sqlite3")}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("OPTIONS", {}).update(
            {
                # Django's select_for_update is a no-op on SQLite: IMMEDIATE takes the write
                # lock when the transaction opens, so two writers serialise instead of one
                # failing with "database is locked" halfway through.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-64000;"
                ),
            }
        )
        db["CONN_MAX_AGE"] = 0
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Nothing is collected there (WhiteNoise serves from the packages), but WhiteNoise warns
# on every request cycle when the folder is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the installed packages: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Census sheets uploaded through the web wait here between preview and commit.
UPLOAD_DIR = DATA_DIR / "uploads"
# Photos given with requests: private like everything in DATA_DIR, served only by views
# that check who asks (frontline.requests.photos).
FRONTLINE_PHOTO_DIR = DATA_DIR / "photos"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Census import limits: a sheet beyond any of them is refused with a message, before it
# can fill memory or the disk (a few hundred KB of zipped XML can expand to gigabytes).
FRONTLINE_UPLOAD_MAX_MB = _env_int("FRONTLINE_UPLOAD_MAX_MB", 50)
# An .xlsx's sheet is streamed, so its unpacked size costs time, not memory: the default fits
# a sheet at the row limit (~800 bytes of XML a row). Its shared text is held in memory whole,
# hence the smaller limit on that part: each shared string costs ~200 bytes of memory, so
# 20 MB of the shortest strings (a million of them) peaks at ~260 MB in all, measured; an
# office's sheet of ~200,000 rows fits. Larger sheets: raise it, with the memory to match.
FRONTLINE_IMPORT_MAX_UNCOMPRESSED_MB = _env_int("FRONTLINE_IMPORT_MAX_UNCOMPRESSED_MB", 1000)
FRONTLINE_IMPORT_MAX_SHARED_STRINGS_MB = _env_int("FRONTLINE_IMPORT_MAX_SHARED_STRINGS_MB", 20)
FRONTLINE_IMPORT_MAX_RATIO = _env_int("FRONTLINE_IMPORT_MAX_RATIO", 100)
FRONTLINE_IMPORT_MAX_ROWS = _env_int("FRONTLINE_IMPORT_MAX_ROWS", 1_100_000)
FRONTLINE_IMPORT_MAX_COLUMNS = _env_int("FRONTLINE_IMPORT_MAX_COLUMNS", 64)
FRONTLINE_IMPORT_MAX_CELL_CHARS = _env_int("FRONTLINE_IMPORT_MAX_CELL_CHARS", 1000)
# A sheet uploaded on the web with more rows than this is checked and imported by the
# background worker (`frontline worker`), with its progress on the page, not while the
# browser waits: 2,000 rows take a few seconds inline.
FRONTLINE_WEB_IMPORT_INLINE_ROWS = _env_int("FRONTLINE_WEB_IMPORT_INLINE_ROWS", 2000)
# Photos with a request (at registration, at 交单): each at most this large, this many a step.
FRONTLINE_REQUEST_PHOTO_MAX_MB = _env_int("FRONTLINE_REQUEST_PHOTO_MAX_MB", 5)
FRONTLINE_REQUEST_PHOTOS_MAX = _env_int("FRONTLINE_REQUEST_PHOTOS_MAX", 3)
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "frontline.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Frontline API",
    "DESCRIPTION": _("Frontline (一线): territory, grids, households and residents."),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets whose field names another app uses too (h-isolation).
    "ENUM_NAME_OVERRIDES": {
        "IsolationStatusEnum": "frontline.health.models.IsolationCase.Status",
        "IsolationCategoryEnum": "frontline.health.models.IsolationCategory",
        "CareRecordStatusEnum": "frontline.health.models.CareRecord.Status",
        "CareServiceKindEnum": "frontline.health.models.CareService.Kind",
        "SamplingPointKindEnum": "frontline.health.models.SamplingPoint.Kind",
        "PostKindEnum": "frontline.duty.models.Post.Kind",
        "CategoryEnum": "frontline.requests.models.Category",
        "StatusEnum": "frontline.requests.models.Status",
        "InspectionKindEnum": "frontline.supervision.models.Kind",
        "ProblemCategoryEnum": "frontline.supervision.models.Category",
        "ProblemSeverityEnum": "frontline.supervision.models.Severity",
        "ProblemStatusEnum": "frontline.supervision.models.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}


# --- Trust: sign-in, passwords, sessions ---------------------------------------------------


# Every password-based sign-in (the sign-in page, the admin's) goes through axes first.
AUTHENTICATION_BACKENDS = [
    "frontline.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "frontline.accounts.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Validates nothing: Django calls its password_changed() after every password change,
    # whichever path made it (the page, `frontline changepassword`, the admin, a shell).
    {"NAME": "frontline.accounts.passwords.RevokeTokensOnPasswordChange"},
]

# An account, and separately an address, is locked after this many failed sign-ins.
AXES_FAILURE_LIMIT = _env_int("FRONTLINE_LOCKOUT_ATTEMPTS", 10)
AXES_COOLOFF_TIME = timedelta(minutes=_env_int("FRONTLINE_LOCKOUT_MINUTES", 15))
# Axes locks an account after FRONTLINE_LOCKOUT_ATTEMPTS failures from anywhere. An address
# is locked separately (accounts/lockout.py) after FRONTLINE_LOCKOUT_ADDRESS_ATTEMPTS
# failures across accounts: a community office or a mobile carrier puts many people behind
# one address, and one person's ten typos must not lock all of them out.
AXES_LOCKOUT_PARAMETERS = ["username"]
FRONTLINE_LOCKOUT_ADDRESS_ATTEMPTS = _env_int("FRONTLINE_LOCKOUT_ADDRESS_ATTEMPTS", 50)
# Axes warns when it does not lock by address itself: the address is locked, by the rule
# above (accounts/lockout.py, checked in accounts/backends.py before axes).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Attempts during a lockout do not prolong it: the page promises a time, and keeps it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "frontline.accounts.views.lockout_response"
AXES_VERBOSE = False
# The audit trail records sign-ins; axes' own access log would be a second copy.
AXES_DISABLE_ACCESS_LOG = True

API_TOKEN_DAYS = _env_int("FRONTLINE_TOKEN_DAYS", 30)

# --- Requests (诉求): time limits, in minutes ----------------------------------------------
# "dispatch": from received to dispatched; "close": from received to closed. A key
# "category/urgency" overrides the urgency's own line. Replace the whole table with a JSON
# object in FRONTLINE_REQUEST_LIMITS. A supervision still overdue after
# FRONTLINE_ESCALATE_MINUTES goes one grid level up.
FRONTLINE_REQUEST_LIMITS = {
    "urgent": {"dispatch": 15, "close": 240},
    "normal": {"dispatch": 120, "close": 24 * 60},
    "medical/urgent": {"dispatch": 15, "close": 120},
    "medicine/urgent": {"dispatch": 15, "close": 180},
    "groceries/normal": {"dispatch": 240, "close": 24 * 60},
}
if _limits := os.environ.get("FRONTLINE_REQUEST_LIMITS"):
    import json as _json

    FRONTLINE_REQUEST_LIMITS = _json.loads(_limits)
FRONTLINE_ESCALATE_MINUTES = _env_int("FRONTLINE_ESCALATE_MINUTES", 60)
# An inspection problem (督查问题) still unverified this long after its rectification date,
# or after its last escalation, goes one region level up (frontline.supervision.sweep).
FRONTLINE_PROBLEM_ESCALATE_HOURS = _env_int("FRONTLINE_PROBLEM_ESCALATE_HOURS", 24)
# How supervision notices reach people: dotted paths of channel classes, each with a
# `send(*, recipients, subject, body, url)`. The in-app inbox by default; an SMS or WeChat
# gateway is one more class in this list.
FRONTLINE_NOTIFY_CHANNELS = ["frontline.requests.notify.InboxChannel"]
# The worker's periodic supervision sweep, in seconds.
FRONTLINE_SWEEP_SECONDS = _env_int("FRONTLINE_SWEEP_SECONDS", 60)

# --- Health: home isolation visits and care services (h-isolation) -------------------------
# A twice-daily visit slot is missed when its deadline (local time) passes with no visit;
# the keeper is told then, and the grid chief FRONTLINE_VISIT_ESCALATE_HOURS later if the
# visit is still missing. A care occurrence is missed FRONTLINE_CARE_GRACE_MINUTES after it
# was due with nothing recorded. A temperature at or above FRONTLINE_FEVER_CELSIUS flags a
# visit.
FRONTLINE_VISIT_DEADLINES = {"am": "12:00", "pm": "20:00"}
FRONTLINE_VISIT_ESCALATE_HOURS = _env_int("FRONTLINE_VISIT_ESCALATE_HOURS", 2)
FRONTLINE_CARE_GRACE_MINUTES = _env_int("FRONTLINE_CARE_GRACE_MINUTES", 120)
FRONTLINE_FEVER_CELSIUS = "37.3"

# Background tasks (`frontline worker`) are rows in the database, so the worker needs
# nothing beyond the database the app already uses.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Absolute lifetime (the cookie's age and a check on the sign-in time) and idle timeout.
SESSION_ABSOLUTE_SECONDS = _env_int("FRONTLINE_SESSION_HOURS", 12) * 3600
SESSION_IDLE_SECONDS = _env_int("FRONTLINE_SESSION_IDLE_MINUTES", 120) * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

# --- Trust: deployment -----------------------------------------------------------------------

# Behind a TLS-terminating proxy: secure cookies, HSTS, redirect to https, and trust the
# proxy's X-Forwarded-Proto (the proxy must set it; it must not pass a client's through).
HTTPS = os.environ.get("FRONTLINE_HTTPS", "") == "1"
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Only announces eligibility; being on browsers' preload lists is a separate request.
    SECURE_HSTS_PRELOAD = True
# How many reverse proxies stand in front of the app: the client's address is then taken
# from X-Forwarded-For (ForwardedForMiddleware), for the lockout and the audit trail.
FRONTLINE_PROXY_COUNT = _env_int("FRONTLINE_PROXY_COUNT", 0)
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("FRONTLINE_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# No inline script or style anywhere: a script injected into a page does not run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
