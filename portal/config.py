"""The portal's one configuration module: defaults, environment overrides, start-up checks."""

import os
from pathlib import Path

# The secret a development checkout runs with; production refuses to start with it.
DEV_SECRET_KEY = "dev-only-secret-not-for-production"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def defaults(instance_path: str) -> dict:
    """Settings used when neither the environment nor the caller overrides them."""
    return {
        "ENV_NAME": "development",
        "SECRET_KEY": DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(instance_path) / 'portal.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "BABEL_DEFAULT_LOCALE": "it",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Rome",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        # Italian first: it is the language of the agencies and the fallback of every text.
        "SUPPORTED_LOCALES": (
            "it",
            "en",
            "fr",
            "es",
            "ro",
            "sq",
            "uk",
            "ar",
            "ur",
            "pa",
            "hi",
            "bn",
            "zh",
        ),
        "PORTAL_NAME": "PUA Oglio Po, Suzzarese e Oltrepò",
        "PUBLIC_BASE_URL": "",
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SEARCH_INDEX_DIR": str(Path(instance_path) / "search-index"),
        # How long the back office keeps a rendered inbox page at most (0: never). It is
        # dropped sooner, at once, when a request of its queues changes.
        "BACKOFFICE_INBOX_KEEP_SECONDS": 60,
        # Memory for the search's decoded postings, per process (portal.search.engine).
        "SEARCH_ARRAY_CACHE_MB": 256,
        "DEMO_DATA_DIR": str(Path(__file__).resolve().parent / "catalog" / "demo"),
        "DEMO_STAFF_FILE": str(Path(__file__).resolve().parent / "auth" / "demo" / "staff.yaml"),
        # SPID/CIE login (OpenID Connect Federation). Development points at the local test
        # provider that `make run` starts (scripts/idp.sh); production sets every one of these.
        "FEDERATION_ENTITY_ID": "http://127.0.0.1:5000/",
        "FEDERATION_TRUST_ANCHOR": "http://127.0.0.1:8000/",
        "FEDERATION_TRUST_ANCHOR_JWKS_FILE": str(
            PROJECT_ROOT / "instance" / "idp" / "trust-anchor.jwks.json"
        ),
        "FEDERATION_REQUIRED_PROVIDER_TRUST_MARKS": (),
        "FEDERATION_STATEMENT_LIFETIME": 24 * 3600,
        "FEDERATION_CONTACTS": ("pua-portale@example.invalid",),
        "AUTH_CIE_PROVIDERS": ("http://127.0.0.1:8002/oidc/op/",),
        "AUTH_KEYS_FILE": str(Path(instance_path) / "keys" / "relying-party.json"),
        "AUTH_DEFAULT_ACR": "https://www.spid.gov.it/SpidL2",
        "AUTH_HTTP_TIMEOUT": 5.0,
        "AUTH_SESSION_IDLE_TIMEOUT": 30 * 60,
        "AUTH_SESSION_ABSOLUTE_TIMEOUT": 8 * 3600,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # Development and tests only: log in as a test identity without the provider.
        "AUTH_TEST_LOGIN": False,
        # Online requests: uploads live outside the web root; drafts are kept this long.
        "UPLOAD_DIR": str(Path(instance_path) / "uploads"),
        "UPLOAD_MAX_MB": 12,
        "DRAFT_LIFETIME_DAYS": 30,
        "DRAFT_WARNING_DAYS": 7,
        "DEMO_FORMS_DIR": str(Path(__file__).resolve().parent / "catalog" / "demo" / "forms"),
        # Mail leaves through the outbox (`flask outbox send`); development writes .eml files.
        "MAIL_BACKEND": "file",
        "MAIL_FROM": "PUA <noreply@pua.example.invalid>",
        "MAIL_FILE_DIR": str(Path(instance_path) / "mail"),
        "MAIL_SERVER": "localhost",
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_MAX_ATTEMPTS": 10,
        "PDF_FONT_DIR": "/usr/share/fonts/truetype/dejavu",
        # Rate limits (portal/security.py): memory here; production needs Redis.
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        # How many reverse proxies in front of the portal set X-Forwarded-* (0: none).
        "TRUSTED_PROXIES": 0,
        # The dashboard's indicators (past periods) are reused this long (0: never).
        "DASHBOARD_CACHE_SECONDS": 300,
    }


def from_environment(environ=os.environ) -> dict:
    """Settings the deployment gives through environment variables."""
    settings = {}
    if environ.get("PORTAL_ENV"):
        settings["ENV_NAME"] = environ["PORTAL_ENV"]
    if environ.get("SECRET_KEY"):
        settings["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    if environ.get("SEARCH_INDEX_DIR"):
        settings["SEARCH_INDEX_DIR"] = environ["SEARCH_INDEX_DIR"]
    if environ.get("PUBLIC_BASE_URL"):
        settings["PUBLIC_BASE_URL"] = environ["PUBLIC_BASE_URL"].rstrip("/")
    for name in (
        "FEDERATION_ENTITY_ID",
        "FEDERATION_TRUST_ANCHOR",
        "FEDERATION_TRUST_ANCHOR_JWKS_FILE",
        "AUTH_KEYS_FILE",
        "UPLOAD_DIR",
        "MAIL_BACKEND",
        "MAIL_FROM",
        "MAIL_FILE_DIR",
        "MAIL_SERVER",
        "MAIL_USERNAME",
        "MAIL_PASSWORD",
        "PDF_FONT_DIR",
        "RATELIMIT_STORAGE_URI",
        "ATTACHMENT_KEYS",
        "DEMO_DATA_DIR",
        "DEMO_FORMS_DIR",
        "DEMO_STAFF_FILE",
    ):
        if environ.get(name):
            settings[name] = environ[name]
    if environ.get("MAIL_PORT"):
        settings["MAIL_PORT"] = int(environ["MAIL_PORT"])
    if environ.get("MAIL_USE_TLS"):
        settings["MAIL_USE_TLS"] = environ["MAIL_USE_TLS"].lower() in {"1", "true", "yes"}
    for name in (
        "FEDERATION_REQUIRED_PROVIDER_TRUST_MARKS",
        "FEDERATION_CONTACTS",
        "AUTH_CIE_PROVIDERS",
    ):
        if environ.get(name) is not None:
            settings[name] = tuple(v.strip() for v in environ[name].split(",") if v.strip())
    if environ.get("TRUSTED_PROXIES"):
        settings["TRUSTED_PROXIES"] = int(environ["TRUSTED_PROXIES"])
    if environ.get("RATELIMIT_ENABLED"):
        settings["RATELIMIT_ENABLED"] = environ["RATELIMIT_ENABLED"].lower() in {"1", "true", "yes"}
    if environ.get("AUTH_TEST_LOGIN"):
        settings["AUTH_TEST_LOGIN"] = environ["AUTH_TEST_LOGIN"].lower() in {"1", "true", "yes"}
    return settings


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the common way (postgres://, postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def validate(config) -> None:
    """Refuse settings that would be unsafe or broken, before the first request."""
    if config["ENV_NAME"] not in {"development", "testing", "production"}:
        raise ConfigError("PORTAL_ENV must be development, testing or production")
    if config["ENV_NAME"] == "production":
        secret = config.get("SECRET_KEY") or ""
        if secret == DEV_SECRET_KEY or len(secret) < 32:
            raise ConfigError(
                "Production needs SECRET_KEY in the environment: a random value of 32+ characters"
            )
        if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            raise ConfigError("Production needs DATABASE_URL pointing to PostgreSQL")
        if config["AUTH_TEST_LOGIN"]:
            raise ConfigError("AUTH_TEST_LOGIN is a development shortcut: production refuses it")
        if not config["FEDERATION_ENTITY_ID"].startswith("https://"):
            raise ConfigError("Production needs FEDERATION_ENTITY_ID: the portal's https:// URL")
        if not config["FEDERATION_TRUST_ANCHOR"].startswith("https://"):
            raise ConfigError("Production needs FEDERATION_TRUST_ANCHOR: an https:// entity id")
        if not Path(config["FEDERATION_TRUST_ANCHOR_JWKS_FILE"]).is_file():
            raise ConfigError(
                "Production needs FEDERATION_TRUST_ANCHOR_JWKS_FILE: the pinned public keys "
                "of the Trust Anchor"
            )
        if not config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
            raise ConfigError(
                "Production needs RATELIMIT_STORAGE_URI=redis://...: rate limits shared by "
                "every worker"
            )
        config["SESSION_COOKIE_NAME"] = "__Host-pua_session"
        if config["MAIL_BACKEND"] != "smtp":
            raise ConfigError("Production needs MAIL_BACKEND=smtp and MAIL_SERVER")
        config["SESSION_COOKIE_SECURE"] = True
    for name in ("FEDERATION_ENTITY_ID", "FEDERATION_TRUST_ANCHOR"):
        if config[name] and not config[name].endswith("/"):
            config[name] += "/"
    if "it" not in config["SUPPORTED_LOCALES"]:
        raise ConfigError("Italian must stay a supported locale: it is every text's fallback")
