"""A development shortcut: log in as a test identity without the identity provider.

Registered only when AUTH_TEST_LOGIN is set, which the production configuration refuses, so
that browser tests of later pages do not need the provider running. It accepts only the
identities of the local test provider, never an arbitrary fiscal code."""

import json

from flask import Blueprint, abort, current_app, redirect, request

from portal.auth import people, services
from portal.config import PROJECT_ROOT
from portal.extensions import db

bp = Blueprint("auth_testing", __name__)

IDENTITIES_FILE = PROJECT_ROOT / "idp" / "identities.json"
TEST_PROVIDER = "urn:portal:test-login"


def test_identities() -> dict[str, dict]:
    people = json.loads(IDENTITIES_FILE.read_text())["identities"]
    return {person["fiscal_number"]: person for person in people}


@bp.post("/auth/test-login")
def test_login():
    if current_app.config["ENV_NAME"] == "production":
        abort(404)
    person = test_identities().get(request.form.get("fiscal_number", ""))
    if person is None:
        abort(400)
    user = people.person_record(person["fiscal_number"])
    user.given_name = person["given_name"]
    user.family_name = person["family_name"]
    user.email = person["email"]
    db.session.flush()
    services.start_session(user, TEST_PROVIDER, "test", "https://www.spid.gov.it/SpidL2", None)
    services.audit("login_succeeded", "ok", provider=TEST_PROVIDER, user_id=user.id)
    db.session.commit()
    return redirect(services.safe_next(request.form.get("next")) or "/", code=303)
