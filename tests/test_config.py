import pytest

from portal import create_app as portal_create_app
from portal.config import DEV_SECRET_KEY, ConfigError, normalise_database_url

POSTGRES = "postgresql+psycopg://portal@127.0.0.1/portal"


@pytest.fixture
def create_app(tmp_path, monkeypatch):
    """create_app with the search index in a temporary folder, never in the checkout."""
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "index"))
    return portal_create_app


def test_production_refuses_the_development_secret(create_app):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(
            {
                "ENV_NAME": "production",
                "SECRET_KEY": DEV_SECRET_KEY,
                "SQLALCHEMY_DATABASE_URI": POSTGRES,
            }
        )


def test_production_refuses_a_short_secret(create_app):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(
            {"ENV_NAME": "production", "SECRET_KEY": "short", "SQLALCHEMY_DATABASE_URI": POSTGRES}
        )


def test_production_refuses_the_embedded_database(create_app):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app(
            {
                "ENV_NAME": "production",
                "SECRET_KEY": "x" * 40,
                "SQLALCHEMY_DATABASE_URI": "sqlite:///portal.sqlite3",
            }
        )


def test_production_starts_with_real_settings_and_secure_cookies(create_app):
    app = create_app(
        {"ENV_NAME": "production", "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": POSTGRES}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_environment_database_url_uses_psycopg3(create_app, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/portal")
    monkeypatch.setenv("PORTAL_ENV", "testing")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/portal"


def test_default_database_is_sqlite_in_instance_folder(create_app, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    app = create_app()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/portal.sqlite3")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalise_database_url(given, expected):
    assert normalise_database_url(given) == expected
