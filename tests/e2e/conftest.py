"""Browser tests: the portal served from a thread, Debian's Chromium driven by Playwright.

One browser per test session (pytest-playwright's `browser`), a fresh context per test. The
portal has its own SQLite database with the demo data, the in-process federation of the auth
tests (so the login page lists providers), and the test-identity login shortcut."""

import json
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from tests.auth.fakes import CIE_OP, OP_TRUST_MARK, TA, FakeFederation, public, wire
from tests.conftest import _postgres_url, load_demo
from tests.e2e.browsing import SERVICE, file_request

CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
# Closed-network flags: these machines cannot reach Google's update and sync services.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

CITIZEN = "RSSMRA80A01E897X"  # Mario Rossi, of Viadana
ADMIN = "NRELNE77C55F205V"  # Elena Neri
EDITOR = "DLCGNN60A01G489S"  # Giovanni Dalco


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = next((p for p in CHROMIUM_PATHS if os.path.exists(p)), None)
    if path is None:
        pytest.fail("Debian's chromium is not installed: run scripts/setup.sh")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory, worker_id):
    """The base URL of a portal serving the demo data (on DATABASE_URL's PostgreSQL when set)."""
    folder = tmp_path_factory.mktemp("e2e")
    database_url = _postgres_url(f"e2e_{worker_id}") or f"sqlite:///{folder / 'portal.sqlite3'}"
    federation = FakeFederation()
    server = make_server("127.0.0.1", 0, None, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        app = _portal(folder, base, federation, database_url)
    except BaseException:
        server.server_close()
        raise
    server.app = Buffered(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["auth"].http.close()
        with app.app_context():
            db.engine.dispose()


class Buffered:
    """Each response read whole and its file closed before anything is sent. Werkzeug's test
    server skips closing a response whose client went away (the browser leaving a page while a
    font still downloads), which would leave the file to the garbage collector."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        body = self.app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()


def _portal(folder, base: str, federation: FakeFederation, database_url: str):
    anchor_keys = folder / "trust-anchor.jwks.json"
    anchor_keys.write_text(json.dumps(public(federation.ta_key)))
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SECRET_KEY": "browser-tests-secret-key-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SEARCH_INDEX_DIR": str(folder / "index"),
            "FEDERATION_ENTITY_ID": base + "/",
            "FEDERATION_TRUST_ANCHOR": TA,
            "FEDERATION_TRUST_ANCHOR_JWKS_FILE": str(anchor_keys),
            "FEDERATION_REQUIRED_PROVIDER_TRUST_MARKS": (OP_TRUST_MARK,),
            "AUTH_CIE_PROVIDERS": (CIE_OP,),
            "AUTH_KEYS_FILE": str(folder / "relying-party.json"),
            "AUTH_TEST_LOGIN": True,
            "UPLOAD_DIR": str(folder / "uploads"),
            "MAIL_BACKEND": "memory",
            "RATELIMIT_ENABLED": False,
            "DASHBOARD_CACHE_SECONDS": 0,
        }
    )
    wire(app, federation)
    load_demo(app)
    return app


@pytest.fixture(scope="session")
def artifacts():
    """Where screenshots go (kept by CI as test artifacts; look at them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def log_in(page, base: str, fiscal_number: str, lang: str = "it") -> None:
    """Log in as a test identity, in the browser's own session (the provider is not needed)."""
    page.goto(f"{base}/{lang}/servizi/assistenza-domiciliare-sad")  # its forms carry a token
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(
        f"{base}/auth/test-login",
        form={"fiscal_number": fiscal_number, "csrf_token": token, "next": f"/{lang}/"},
    )
    assert response.ok, response.status


@pytest.fixture(scope="session")
def submitted_reference(browser, live_portal):
    """A request filed by a citizen of Viadana, for the staff pages to show."""
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_portal, CITIZEN)
    reference = file_request(page, live_portal, SERVICE)
    context.close()
    return reference
