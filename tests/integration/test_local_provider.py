"""The whole login against the real local SPID/CIE provider (spid-cie-oidc, in .idp-venv).

The portal is served on a free loopback port and onboarded at a Trust Anchor started for this
module only (own ports, own data folder); a scripted browser logs in with the SPID and the CIE
profile, reads the profile, logs out, and checks that the provider no longer honours the token.
"""

import html
import json
import os
import re
import socket
import subprocess
import threading
from urllib.parse import urljoin

import httpx
import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from portal import create_app
from portal.auth import staff
from portal.auth.models import AuthEvent, LoginSession
from portal.catalog import demo_data
from portal.config import PROJECT_ROOT
from portal.extensions import db

IDP_SCRIPT = PROJECT_ROOT / "scripts" / "idp.sh"
PASSWORD = "pua-demo-2026"

pytestmark = pytest.mark.idp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def idp(env, *args):
    done = subprocess.run(
        ["bash", str(IDP_SCRIPT), *args], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def live(tmp_path_factory, worker_id):
    """(portal app, portal base URL, provider URLs) with the provider running."""
    folder = tmp_path_factory.mktemp("idp")
    ta_port, cie_port, portal_port = free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        IDP_HOST="127.0.0.1",
        IDP_TA_PORT=str(ta_port),
        IDP_CIE_PORT=str(cie_port),
        IDP_DATA_DIR=str(folder / "data"),
    )
    base = f"http://127.0.0.1:{portal_port}/"
    trust_anchor = f"http://127.0.0.1:{ta_port}/"
    cie = f"http://127.0.0.1:{cie_port}/oidc/op/"
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SECRET_KEY": "integration-secret-key-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'portal.sqlite3'}",
            "SEARCH_INDEX_DIR": str(folder / "index"),
            "AUTH_KEYS_FILE": str(folder / "keys.json"),
            "FEDERATION_ENTITY_ID": base,
            "FEDERATION_TRUST_ANCHOR": trust_anchor,
            "FEDERATION_TRUST_ANCHOR_JWKS_FILE": str(folder / "data" / "trust-anchor.jwks.json"),
            "AUTH_CIE_PROVIDERS": (cie,),
        }
    )
    with app.app_context():
        upgrade()
        demo_data.load(app.config["DEMO_DATA_DIR"])
        staff.load(app.config["DEMO_STAFF_FILE"])
        db.session.commit()
    rp_keys = folder / "portal.jwks.json"
    rp_keys.write_text(json.dumps(app.extensions["auth"].keys.federation_public()))
    idp(env, "bootstrap", "--rp", f"{base}={rp_keys}")
    idp(env, "start")
    # The pinned keys exist only now: build the federation client again from them.
    from portal.auth.services import AuthRuntime

    app.extensions["auth"].http.close()
    app.extensions["auth"] = AuthRuntime(app)
    server = make_server("127.0.0.1", portal_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, base, {"spid": trust_anchor + "oidc/op/", "cie": cie}
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["auth"].http.close()
        idp(env, "stop")


def form_fields(page: str, names) -> dict:
    found = {}
    for name in names:
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', page
        )
        if match:
            found[name] = html.unescape(match.group(1))
    return found


def log_in(browser: httpx.Client, base: str, provider: str, username: str, lang="it"):
    page = browser.get(f"{base}{lang}/accedi")
    assert page.status_code == 200
    offered = re.findall(r'name="provider" value="([^"]+)"', page.text)
    assert provider in offered, offered
    token = form_fields(page.text, ["csrf_token"])["csrf_token"]
    started = browser.post(f"{base}{lang}/accedi", data={"csrf_token": token, "provider": provider})
    assert started.status_code == 303
    authorization = started.headers["location"]
    assert authorization.startswith(provider + "authorization?")
    login_page = browser.get(authorization)
    assert login_page.status_code == 200, login_page.text[:500]
    fields = form_fields(login_page.text, ["csrfmiddlewaretoken", "authz_request_object"])
    fields.update(username=username, password=PASSWORD)
    logged = browser.post(
        authorization.split("?")[0], data=fields, headers={"Referer": authorization}
    )
    assert logged.status_code == 302, logged.text[:500]
    consent_url = urljoin(authorization, logged.headers["location"])
    consent = browser.get(consent_url)
    agreed = browser.post(
        consent_url,
        data=form_fields(consent.text, ["csrfmiddlewaretoken", "agree"]),
        headers={"Referer": consent_url},
    )
    assert agreed.status_code == 302
    callback = agreed.headers["location"]
    assert callback.startswith(base + "auth/callback?")
    return browser.get(callback)


@pytest.mark.parametrize(
    ("profile", "username", "fiscal_number", "name"),
    [
        ("spid", "mario.rossi", "RSSMRA80A01E897X", "Mario Rossi"),
        ("cie", "laura.bianchi", "BNCLRA75M41L020S", "Laura Bianchi"),
    ],
)
def test_full_login_userinfo_and_logout_with_revocation(
    live, profile, username, fiscal_number, name
):
    app, base, providers = live
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        landed = log_in(browser, base, providers[profile], username, lang="en")
        assert landed.status_code == 303
        assert landed.headers["location"].endswith("/en/profilo")
        profile_page = browser.get(urljoin(base, landed.headers["location"]))
        assert profile_page.status_code == 200
        assert name in profile_page.text and fiscal_number in profile_page.text
        assert ("CIE" if profile == "cie" else "SPID") in profile_page.text
        with app.app_context():
            record = db.session.scalar(
                select(LoginSession)
                .where(LoginSession.ended_at.is_(None))
                .order_by(LoginSession.id.desc())
            )
            access_token = record.access_token
            assert record.acr == "https://www.spid.gov.it/SpidL2"
        userinfo = providers[profile] + "userinfo"
        headers = {"Authorization": f"Bearer {access_token}"}
        assert browser.get(userinfo, headers=headers).status_code == 200

        token = form_fields(profile_page.text, ["csrf_token"])["csrf_token"]
        out = browser.post(f"{base}en/esci", data={"csrf_token": token})
        assert out.status_code == 303
        assert browser.get(f"{base}en/profilo").status_code == 302
        # The provider has revoked the token: it no longer opens the userinfo.
        assert browser.get(userinfo, headers=headers).status_code != 200
    with app.app_context():
        kinds = [
            (event.kind, event.outcome)
            for event in db.session.scalars(select(AuthEvent).order_by(AuthEvent.id))
        ]
        assert ("login_succeeded", "ok") in kinds and ("token_revocation", "ok") in kinds


def test_staff_member_logs_in_and_is_recognised(live):
    _, base, providers = live
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        landed = log_in(browser, base, providers["spid"], "sara.colombo")
        page = browser.get(urljoin(base, landed.headers["location"]))
        assert "Coordinatore PUA" in page.text


def test_the_provider_refuses_a_wrong_password(live):
    _, base, providers = live
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        page = browser.get(f"{base}it/accedi")
        token = form_fields(page.text, ["csrf_token"])["csrf_token"]
        started = browser.post(
            f"{base}it/accedi", data={"csrf_token": token, "provider": providers["spid"]}
        )
        authorization = started.headers["location"]
        login_page = browser.get(authorization)
        fields = form_fields(login_page.text, ["csrfmiddlewaretoken", "authz_request_object"])
        fields.update(username="mario.rossi", password="wrong")
        refused = browser.post(
            authorization.split("?")[0], data=fields, headers={"Referer": authorization}
        )
        assert refused.status_code == 200  # the login form again, with an error
        assert browser.get(f"{base}it/profilo").status_code == 302
