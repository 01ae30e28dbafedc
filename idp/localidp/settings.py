"""Settings of the local test identity provider.

One settings module serves both processes; the environment picks the role:

- ``IDP_ROLE=ta-spid``: the Trust Anchor (entity id ``http://HOST:TA_PORT/``) and the
  SPID OpenID Provider (``http://HOST:TA_PORT/oidc/op/``), database ``ta-spid.sqlite3``;
- ``IDP_ROLE=cie``: the CIE OpenID Provider (``http://HOST:CIE_PORT/oidc/op/``),
  database ``cie.sqlite3``.

Only for loopback tests: the secret key is fixed and nothing here is fit for production.
"""

import os
from pathlib import Path

import aiohttp

IDP_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = IDP_DIR.parent

IDP_ROLE = os.environ.get("IDP_ROLE", "ta-spid")
if IDP_ROLE not in ("ta-spid", "cie"):
    raise RuntimeError(f"IDP_ROLE must be 'ta-spid' or 'cie', not {IDP_ROLE!r}")

IDP_HOST = os.environ.get("IDP_HOST", "127.0.0.1")
IDP_TA_PORT = int(os.environ.get("IDP_TA_PORT", "8000"))
IDP_CIE_PORT = int(os.environ.get("IDP_CIE_PORT", "8002"))
_data_dir = Path(os.environ.get("IDP_DATA_DIR", "instance/idp"))
IDP_DATA_DIR = _data_dir if _data_dir.is_absolute() else (REPO_ROOT / _data_dir)
IDP_DATA_DIR = IDP_DATA_DIR.resolve()
IDP_IDENTITIES_FILE = Path(os.environ.get("IDP_IDENTITIES_FILE", str(IDP_DIR / "identities.json")))

TA_ENTITY_ID = f"http://{IDP_HOST}:{IDP_TA_PORT}/"
SPID_OP_ENTITY_ID = f"http://{IDP_HOST}:{IDP_TA_PORT}/oidc/op/"
CIE_OP_ENTITY_ID = f"http://{IDP_HOST}:{IDP_CIE_PORT}/oidc/op/"
RP_TRUST_MARK_ID = "https://www.spid.gov.it/certification/rp/public"
OP_PROFILE_ID = "https://www.spid.gov.it/certification/op"

IDP_PORT = IDP_TA_PORT if IDP_ROLE == "ta-spid" else IDP_CIE_PORT
IDP_PROFILE = "spid" if IDP_ROLE == "ta-spid" else "cie"
IDP_OP_ENTITY_ID = SPID_OP_ENTITY_ID if IDP_ROLE == "ta-spid" else CIE_OP_ENTITY_ID

SECRET_KEY = f"local-test-idp-only-not-a-secret-{IDP_ROLE}"
DEBUG = os.environ.get("IDP_DEBUG", "") == "1"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "spid_cie_oidc.accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bootstrap_italia_template",
    "spid_cie_oidc.entity",
    "spid_cie_oidc.authority",
    "spid_cie_oidc.provider",
    "djagger",
    "localidp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "localidp.urls"
WSGI_APPLICATION = "localidp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(IDP_DATA_DIR / f"{IDP_ROLE}.sqlite3"),
    }
}

AUTH_USER_MODEL = "spid_cie_oidc_accounts.User"
AUTH_PASSWORD_VALIDATORS = []

# Both processes listen on the same host; cookies ignore ports, so each one (and the
# portal) needs its own cookie names or they overwrite each other's sessions.
_cookie_prefix = "localidp_" + IDP_ROLE.replace("-", "_")
SESSION_COOKIE_NAME = f"{_cookie_prefix}_sessionid"
CSRF_COOKIE_NAME = f"{_cookie_prefix}_csrftoken"

LANGUAGE_CODE = "it-it"
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_NUMBER_FIELDS = 65000

LOGIN_URL = "/oidc/op/authorization"

# --- OpenID Connect Federation ---------------------------------------------------------
OIDCFED_DEFAULT_TRUST_ANCHOR = TA_ENTITY_ID
OIDCFED_TRUST_ANCHORS = [TA_ENTITY_ID]
OIDCFED_REQUIRED_TRUST_MARKS = [RP_TRUST_MARK_ID]
OIDCFED_PROVIDER_PROFILE = IDP_PROFILE
OIDCFED_DEFAULT_PROVIDER_PROFILE = IDP_PROFILE
OIDCFED_PROVIDER_SALT = f"local-test-idp-{IDP_PROFILE}"

# Plain http on loopback: no TLS verification (there is no TLS at all).
HTTPC_TIMEOUT = int(os.environ.get("IDP_HTTPC_TIMEOUT", "8"))
HTTPC_PARAMS = {
    "connection": {"ssl": False},
    "session": {"timeout": aiohttp.ClientTimeout(total=HTTPC_TIMEOUT)},
}

DJAGGER_DOCUMENT = {"app_names": ["spid_cie_oidc"]}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "default"},
    },
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "spid_cie_oidc": {
            "handlers": ["console"],
            "level": os.environ.get("IDP_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
        "localidp": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
