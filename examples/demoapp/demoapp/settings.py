"""Django settings for demoapp, read through goodconf.

Everything comes from the environment (and the secrets from systemd credentials), so the same .pyz runs
unchanged on every host (12-factor style). Without DEMOAPP_DATABASE the app needs no database and no
writable directory.

Environment variables (see ``DemoappConfig``):

DJANGO_DEBUG              "1"/"true"/"yes"/"on" enables debug mode (default: off)
DJANGO_ALLOWED_HOSTS      comma-separated host names (default: "127.0.0.1,localhost")
DJANGO_SECRET_KEY         secret key, used when no credential "django_secret_key" exists
DJANGO_LOG_LEVEL          level of the "django" logger on stderr (default: INFO)
DEMOAPP_DATABASE          name of the PostgreSQL database; empty: no database (the counter answers 503)
DEMOAPP_DATABASE_HOST     host, or the directory of its unix socket (default: /var/run/postgresql)
DEMOAPP_DATABASE_USER     role to log in as (default: the service's user, for peer authentication)
DEMOAPP_DATABASE_PASSWORD password, for a database reached over TCP (better: the credential of that name)
CREDENTIALS_DIRECTORY     set by systemd (LoadCredential=/SetCredential=): a file named after a setting
                          in lower case (django_secret_key, demoapp_database_password) wins over the variable
"""

import os
import pwd
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from goodconf import Field, GoodConf

BASE_DIR = Path(__file__).resolve().parent

INSECURE_DEV_SECRET_KEY = "django-insecure-demoapp-development-only-never-use-in-production"


class DemoappConfig(GoodConf):
    """demoapp's settings: environment variables, and files in $CREDENTIALS_DIRECTORY for the secrets."""

    DJANGO_DEBUG: bool = Field(False, description="debug mode")
    DJANGO_ALLOWED_HOSTS: str = Field("127.0.0.1,localhost", description="comma-separated host names")
    DJANGO_SECRET_KEY: str = Field("", description="secret key (credential django_secret_key)")
    DJANGO_LOG_LEVEL: str = Field("INFO", description="level of the django logger")
    DEMOAPP_DATABASE: str = Field("", description="PostgreSQL database name; empty for none")
    DEMOAPP_DATABASE_HOST: str = Field("/var/run/postgresql", description="host or unix socket directory")
    DEMOAPP_DATABASE_USER: str = Field("", description="role; empty: the service's user (peer authentication)")
    DEMOAPP_DATABASE_PASSWORD: str = Field("", description="password (credential demoapp_database_password)")

    class Config:
        secrets_dir = os.environ.get("CREDENTIALS_DIRECTORY") or None

        @classmethod
        def customise_sources(cls, init_settings, env_settings, file_secret_settings):
            # a credential wins over the variable of the same name; no config file
            return init_settings, file_secret_settings, env_settings


def _load():
    # an empty variable means "not set" (goodconf would refuse "" for a bool)
    for name in ("DJANGO_DEBUG",):
        if name in os.environ and not os.environ[name].strip():
            del os.environ[name]
    try:
        config = DemoappConfig()
        config.load()
    except ValueError as exc:  # pydantic's ValidationError names the setting
        raise ImproperlyConfigured("invalid settings: %s" % exc)
    return config


CONFIG = _load()

DEBUG = CONFIG.DJANGO_DEBUG

ALLOWED_HOSTS = [h.strip() for h in CONFIG.DJANGO_ALLOWED_HOSTS.split(",") if h.strip()]


def _secret_key():
    credentials_directory = os.environ.get("CREDENTIALS_DIRECTORY")
    path = Path(credentials_directory or "/nonexistent") / "django_secret_key"
    if credentials_directory and path.is_file() and not CONFIG.DJANGO_SECRET_KEY:
        raise ImproperlyConfigured(f"{path} is empty")
    if CONFIG.DJANGO_SECRET_KEY:
        return CONFIG.DJANGO_SECRET_KEY
    if DEBUG:
        return INSECURE_DEV_SECRET_KEY
    raise ImproperlyConfigured(
        "No secret key: provide the systemd credential 'django_secret_key' "
        "($CREDENTIALS_DIRECTORY/django_secret_key) or set DJANGO_SECRET_KEY "
        "(or set DJANGO_DEBUG=1 to use an insecure development key)."
    )


SECRET_KEY = _secret_key()


def _databases():
    if not CONFIG.DEMOAPP_DATABASE:
        return {}  # stateless: no database at all
    # peer authentication: the role is the service's user (systemd sets USER for User=)
    user = CONFIG.DEMOAPP_DATABASE_USER or os.environ.get("USER") or pwd.getpwuid(os.getuid()).pw_name
    return {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": CONFIG.DEMOAPP_DATABASE,
            "HOST": CONFIG.DEMOAPP_DATABASE_HOST,
            "USER": user,
            "PASSWORD": CONFIG.DEMOAPP_DATABASE_PASSWORD,
            "CONN_MAX_AGE": 60,
            "OPTIONS": {"connect_timeout": 5},
        }
    }


DATABASES = _databases()

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "demoapp",
]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
            "level": CONFIG.DJANGO_LOG_LEVEL,
            "propagate": False,
        },
    },
}
