import json

import pytest
from cryptography.fernet import Fernet
from joserfc.jwk import RSAKey

from portal import create_app as portal_create_app
from portal.auth.keys import KeyFileError, generate_file
from portal.config import DEV_SECRET_KEY, ConfigError, normalise_database_url

POSTGRES = "postgresql+psycopg://portal@127.0.0.1/portal"


@pytest.fixture
def create_app(tmp_path, monkeypatch):
    """create_app with the search index in a temporary folder, never in the checkout."""
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("AUTH_KEYS_FILE", str(tmp_path / "keys.json"))
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


@pytest.fixture
def production(tmp_path):
    """A complete production configuration, with its key files in place."""
    anchor_keys = tmp_path / "anchor.jwks.json"
    anchor = RSAKey.generate_key(2048, private=False)
    anchor_keys.write_text(json.dumps({"keys": [anchor.as_dict(private=False)]}))
    rp_keys = tmp_path / "rp.json"
    generate_file(rp_keys)
    return {
        "ENV_NAME": "production",
        "SECRET_KEY": "x" * 40,
        "SQLALCHEMY_DATABASE_URI": POSTGRES,
        "FEDERATION_ENTITY_ID": "https://pua.example.it/",
        "FEDERATION_TRUST_ANCHOR": "https://registry.spid.gov.it/",
        "FEDERATION_TRUST_ANCHOR_JWKS_FILE": str(anchor_keys),
        "AUTH_KEYS_FILE": str(rp_keys),
        "MAIL_BACKEND": "smtp",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "ATTACHMENT_KEYS": Fernet.generate_key().decode(),
    }


def test_production_starts_with_real_settings_and_secure_cookies(create_app, production):
    app = create_app(production)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_the_test_login_shortcut(create_app, production):
    with pytest.raises(ConfigError, match="AUTH_TEST_LOGIN"):
        create_app(dict(production, AUTH_TEST_LOGIN=True))


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("FEDERATION_ENTITY_ID", "http://pua.example.it/"),
        ("FEDERATION_TRUST_ANCHOR", "http://registry.spid.gov.it/"),
        ("FEDERATION_TRUST_ANCHOR_JWKS_FILE", "/nonexistent/anchor.json"),
    ],
)
def test_production_refuses_an_insecure_or_unpinned_federation(
    create_app, production, setting, value
):
    with pytest.raises(ConfigError, match=setting):
        create_app(dict(production, **{setting: value}))


def test_production_never_generates_its_own_keys(create_app, production, tmp_path):
    missing = tmp_path / "no-keys.json"
    with pytest.raises(KeyFileError, match="does not exist"):
        create_app(dict(production, AUTH_KEYS_FILE=str(missing)))
    assert not missing.exists()


def test_the_test_login_shortcut_exists_only_when_enabled(create_app, tmp_path):
    base = {"AUTH_KEYS_FILE": str(tmp_path / "k.json"), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    assert "auth_testing.test_login" not in create_app(base).view_functions
    enabled = create_app(dict(base, AUTH_TEST_LOGIN=True))
    assert "auth_testing.test_login" in enabled.view_functions


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


def test_production_refuses_to_store_documents_without_a_key(create_app, production):
    with pytest.raises(ConfigError, match="ATTACHMENT_KEYS"):
        create_app(dict(production, ATTACHMENT_KEYS=""))
