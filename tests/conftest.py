"""Fixtures: one database per test worker, migrated and loaded with the demo data once;
every test runs inside a transaction that is rolled back, so tests never see each other."""

import json
import os
import re

import pytest
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from portal import create_app
from portal.auth import staff
from portal.catalog import demo_data
from portal.config import normalise_database_url
from portal.extensions import db
from portal.forms import store as forms_store
from portal.search import indexing
from tests.auth.fakes import CIE_OP, OP_TRUST_MARK, TA, FakeFederation, public, wire
from tests.htmlcheck import CheckingClient


def _postgres_url(worker: str) -> str | None:
    """A schema of its own in DATABASE_URL's database for this worker, created empty."""
    raw = os.environ.get("DATABASE_URL")
    if not raw:
        return None
    url = make_url(normalise_database_url(raw))
    schema = "pytest_" + re.sub(r"\W", "_", worker)
    admin = create_engine(url)
    # No skip: a CI run with DATABASE_URL set must fail loudly if PostgreSQL is unreachable.
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    query = dict(url.query, options=f"-csearch_path={schema}")
    return url.set(query=query).render_as_string(hide_password=False)


def load_demo(app) -> None:
    """Migrate the app's database and load the demo territory, catalog, staff and forms."""
    with app.app_context():
        upgrade()
        demo_data.load(app.config["DEMO_DATA_DIR"])
        staff.load(app.config["DEMO_STAFF_FILE"])
        forms_store.load(app.config["DEMO_FORMS_DIR"])
        db.session.commit()


@pytest.fixture(scope="session")
def fake_federation():
    return FakeFederation()


@pytest.fixture(scope="session")
def app(tmp_path_factory, worker_id, fake_federation):
    keys_dir = tmp_path_factory.mktemp("keys")
    anchor_keys = keys_dir / "trust-anchor.jwks.json"
    anchor_keys.write_text(json.dumps(public(fake_federation.ta_key)))
    database_url = _postgres_url(worker_id) or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"
    )
    app = create_app(
        {
            "ENV_NAME": "testing",
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SERVER_NAME": "portal.test",
            "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("search-index")),
            "FEDERATION_ENTITY_ID": "http://portal.test/",
            "FEDERATION_TRUST_ANCHOR": TA,
            "FEDERATION_TRUST_ANCHOR_JWKS_FILE": str(anchor_keys),
            "FEDERATION_REQUIRED_PROVIDER_TRUST_MARKS": (OP_TRUST_MARK,),
            "AUTH_CIE_PROVIDERS": (CIE_OP,),
            "AUTH_KEYS_FILE": str(keys_dir / "relying-party.json"),
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "MAIL_BACKEND": "memory",
            # The suite makes many requests from one address; tests/test_security.py checks
            # the limits on an application of its own.
            "RATELIMIT_ENABLED": False,
            "DASHBOARD_CACHE_SECONDS": 0,
        }
    )
    wire(app, fake_federation)
    app.test_client_class = CheckingClient
    load_demo(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _rollback(request):
    """Run each test in a transaction rolled back at the end (SAVEPOINTs for its commits)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    generation = app.extensions["search_index"].generation()
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        if connection.dialect.name == "postgresql":
            # Deferred triggers (the inbox versions) fire at commit, and this transaction never
            # commits: fire them at each statement instead, as SQLite does.
            connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own picks the engine, not the bound connection.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            transaction.rollback()
            connection.close()
            if app.extensions["search_index"].generation() != generation:
                # The test changed the catalog and so the index: bring it back to the data.
                indexing.rebuild(app)


@pytest.fixture
def federation(app, fake_federation):
    """The fake federation, fresh for this test: nothing tampered, nothing cached."""
    fake_federation.reset()
    runtime = app.extensions["auth"]
    runtime.federation.forget()
    runtime._own_marks = (0.0, [])
    yield fake_federation
    fake_federation.reset()
    runtime.federation.forget()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
