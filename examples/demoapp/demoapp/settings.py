"""Django settings for demoapp.

Everything comes from the environment, so the same .pyz runs unchanged on
every host (12-factor style). Nothing here needs a database or a writable
directory.

Environment variables:

DJANGO_DEBUG            "1"/"true"/"yes"/"on" enables debug mode (default: off)
DJANGO_ALLOWED_HOSTS    comma-separated host names (default: "127.0.0.1,localhost")
DJANGO_SECRET_KEY       secret key, used when no credential file exists
CREDENTIALS_DIRECTORY   set by systemd (LoadCredential=/SetCredential=); the
                        file "django_secret_key" in it wins over DJANGO_SECRET_KEY
DJANGO_LOG_LEVEL        level of the "django" logger on stderr (default: INFO)
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

_TRUE = {"1", "true", "yes", "on"}


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in _TRUE


def _env_list(name, default):
    value = os.environ.get(name, default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = _env_bool("DJANGO_DEBUG", False)

ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSECURE_DEV_SECRET_KEY = "django-insecure-demoapp-development-only-never-use-in-production"


def _secret_key():
    credentials_directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials_directory:
        path = Path(credentials_directory) / "django_secret_key"
        if path.is_file():
            key = path.read_text(encoding="utf-8").strip()
            if not key:
                raise ImproperlyConfigured(f"{path} is empty")
            return key
    key = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if key:
        return key
    if DEBUG:
        return INSECURE_DEV_SECRET_KEY
    raise ImproperlyConfigured(
        "No secret key: provide the systemd credential 'django_secret_key' "
        "($CREDENTIALS_DIRECTORY/django_secret_key) or set DJANGO_SECRET_KEY "
        "(or set DJANGO_DEBUG=1 to use an insecure development key)."
    )


SECRET_KEY = _secret_key()

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "demoapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demoapp.urls"
WSGI_APPLICATION = "demoapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

# No database at all: the app is stateless.
DATABASES = {}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Static files live inside the package (demoapp/static/) and are served by
# WhiteNoise straight from the finders: no collectstatic, no STATIC_ROOT, no
# writable directory. shiv extracts the package to $SHIV_ROOT, so they are
# real files on disk.
STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "django": {
            "handlers": ["stderr"],
            "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}
