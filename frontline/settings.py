"""Django settings for Frontline.

Everything that differs between a laptop demo and a city deployment comes from the
environment: DATABASE_URL (sqlite:///PATH or postgres://...), FRONTLINE_DATA_DIR,
FRONTLINE_SECRET_KEY, FRONTLINE_DEBUG, FRONTLINE_ALLOWED_HOSTS, FRONTLINE_CITY.
"""

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent

# The embedded database, the secret key and uploaded sheets live in one data folder,
# so that a demo never writes into the installed package.
DATA_DIR = Path(os.environ.get("FRONTLINE_DATA_DIR", Path.cwd() / "data")).resolve()


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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "frontline.core",
    "frontline.accounts",
    "frontline.territory",
    "frontline.people",
    "frontline.api",
    "frontline.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "frontline.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
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
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
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
# hence the smaller limit on that part.
FRONTLINE_IMPORT_MAX_UNCOMPRESSED_MB = _env_int("FRONTLINE_IMPORT_MAX_UNCOMPRESSED_MB", 1000)
FRONTLINE_IMPORT_MAX_SHARED_STRINGS_MB = _env_int("FRONTLINE_IMPORT_MAX_SHARED_STRINGS_MB", 100)
FRONTLINE_IMPORT_MAX_RATIO = _env_int("FRONTLINE_IMPORT_MAX_RATIO", 100)
FRONTLINE_IMPORT_MAX_ROWS = _env_int("FRONTLINE_IMPORT_MAX_ROWS", 1_100_000)
FRONTLINE_IMPORT_MAX_COLUMNS = _env_int("FRONTLINE_IMPORT_MAX_COLUMNS", 64)
FRONTLINE_IMPORT_MAX_CELL_CHARS = _env_int("FRONTLINE_IMPORT_MAX_CELL_CHARS", 1000)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
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
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
