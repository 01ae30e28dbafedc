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
        "SUPPORTED_LOCALES": ("it", "en"),
        "PORTAL_NAME": "PUA Oglio Po, Suzzarese e Oltrepò",
        "PUBLIC_BASE_URL": "",
        "WTF_CSRF_TIME_LIMIT": 3600 * 8,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SEARCH_INDEX_DIR": str(Path(instance_path) / "search-index"),
        "DEMO_DATA_DIR": str(Path(__file__).resolve().parent / "catalog" / "demo"),
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
        config["SESSION_COOKIE_SECURE"] = True
    if "it" not in config["SUPPORTED_LOCALES"]:
        raise ConfigError("Italian must stay a supported locale: it is every text's fallback")
