"""Settings of the demo and test project.

MONITORING_TEST_DB=postgres switches to PostgreSQL, configured by the usual
PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE variables. With SQLite the
test database is a file (not the in-memory default), so that threads and
processes of the storage tests share it; MONITORING_SQLITE_NAME points a
worker process at it.
"""

import os
import tempfile
from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "django-monitoring-demo-not-secret"
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    # Above the admin: its index and user tools get a Monitoring module and link.
    "monitoring",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "monitoring.contrib.requests",
    "monitoring.contrib.auth",
    "monitoring.contrib.database",
    "monitoring.contrib.tasks",
    "monitoring.contrib.health",
    "test_app",
]

MIDDLEWARE = [
    "monitoring.contrib.requests.middleware.MonitoringMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language from the browser's Accept-Language or the django_language cookie.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "test_app.middleware.ContentSecurityPolicyMiddleware",
    "monitoring.contrib.database.middleware.QueryMiddleware",
]

ROOT_URLCONF = "test_app.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

if os.environ.get("MONITORING_TEST_DB", "sqlite") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "monitoring"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("MONITORING_SQLITE_NAME", BASE_DIR / "demo.sqlite3"),
            # Seconds a writer waits for another one's lock before it gives up.
            "OPTIONS": {"timeout": 30},
            # Tests use a file, not memory: threads and worker processes of the storage
            # tests, and live_server's request threads, each need a connection of their
            # own, which an in-memory SQLite database cannot give them.
            "TEST": {
                "NAME": os.path.join(tempfile.gettempdir(), f"monitoring-{os.getpid()}.sqlite3")
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
# The languages django-monitoring ships; the demo follows the browser's choice among them.
LANGUAGES = [("en-us", "English"), ("de", "Deutsch")]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# Alert emails of the demo land on the console (tests get Django's locmem backend).
# Alert emails of the demo land on the console. Django 6.1 replaced EMAIL_BACKEND by MAILERS.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
MONITORING_ALERT_EMAILS = ["ops@example.com"]

STATIC_URL = "static/"
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/monitoring/"
