"""Hardening seen from outside: headers on every response, rate limits with a clear answer."""

import pytest

from portal import create_app


def test_every_page_carries_a_strict_policy_with_a_fresh_nonce(client):
    first = client.get("/it/")
    second = client.get("/it/")
    policy = first.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy
    assert "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in first.get_data(as_text=True)
    assert nonce not in second.headers["Content-Security-Policy"]
    for name, value in {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }.items():
        assert first.headers[name] == value
    assert "camera=()" in first.headers["Permissions-Policy"]


def test_no_page_has_inline_script_or_style(client):
    import re

    for url in (
        "/it/",
        "/it/servizi/assistenza-domiciliare-sad",
        "/it/cerca?q=badante",
        "/it/accedi",
    ):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url
        for tag in re.findall(r"<script[^>]*>", html):
            assert "nonce=" in tag, (url, tag)


def test_private_pages_are_never_cached(client, federation):
    from tests.auth.flows import login

    login(client, federation)
    assert client.get("/it/area-personale/").headers["Cache-Control"] == "private, no-store"


@pytest.fixture
def limited_app(tmp_path):
    return create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "AUTH_KEYS_FILE": str(tmp_path / "keys.json"),
            "FEDERATION_TRUST_ANCHOR_JWKS_FILE": str(tmp_path / "none.json"),
            "RATELIMIT_ENABLED": True,
        }
    )


def test_the_login_page_is_rate_limited_with_a_clear_answer(limited_app):
    from flask_migrate import upgrade

    with limited_app.app_context():
        upgrade()
    client = limited_app.test_client()
    statuses = [client.get("/en/accedi").status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20
    refused = client.get("/en/accedi")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many requests" in refused.get_data(as_text=True)


def test_the_api_answers_429_in_json(limited_app):
    from flask_migrate import upgrade

    with limited_app.app_context():
        upgrade()
    client = limited_app.test_client()
    for _ in range(300):
        client.get("/api/v1/suggest?q=ba&lang=it")
    refused = client.get("/api/v1/suggest?q=ba&lang=it")
    assert refused.status_code == 429 and refused.is_json


def test_a_database_that_is_down_gives_a_clear_503_in_the_readers_language(tmp_path):
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/unreachable",
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 2},
            },
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "AUTH_KEYS_FILE": str(tmp_path / "keys.json"),
            "RATELIMIT_ENABLED": False,
        }
    )
    client = app.test_client()
    page = client.get("/en/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "temporarily unavailable" in page.get_data(as_text=True)
    assert "Nothing you sent has been lost" in page.get_data(as_text=True)
    api = client.get("/api/v1/services?q=badante")
    assert api.status_code == 503 and api.is_json
    assert client.get("/readyz").status_code == 503


def test_behind_a_trusted_proxy_https_pages_ask_for_hsts(tmp_path):
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "AUTH_KEYS_FILE": str(tmp_path / "keys.json"),
            "TRUSTED_PROXIES": 1,
            "RATELIMIT_ENABLED": False,
        }
    )
    client = app.test_client()
    plain = client.get("/healthz")
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
