"""SPID/CIE login against the in-process federation: what a person sees, and every refusal."""

import datetime as dt
import json

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select

from portal.auth.models import AuthEvent, Identity, LoginSession, User
from portal.extensions import db
from tests.auth.fakes import CIE_OP, SPID_OP
from tests.auth.flows import login, start_login
from tests.pages import find_all, parse, text_of

MARIO = "RSSMRA80A01E897X"


def sessions_of(fiscal_number):
    return db.session.scalar(
        select(func.count(LoginSession.id))
        .join(User)
        .where(User.fiscal_number == fiscal_number, LoginSession.ended_at.is_(None))
    )


def last_event():
    return db.session.scalars(select(AuthEvent).order_by(AuthEvent.id.desc())).first()


def test_login_page_lists_spid_and_cie_providers_from_the_trust_chain(client, federation):
    page = parse(client.get("/it/accedi"))
    spid = [b.get("value") for b in find_all(page, ".//section[@class]//button")]
    assert spid == [SPID_OP, CIE_OP]
    headings = [text_of(h) for h in find_all(page, ".//section/h2")]
    assert headings[:2] == ["Entra con SPID", "Entra con CIE"]


def test_full_spid_login_creates_the_person_and_a_session(client, federation):
    response = login(client, federation)
    assert response.status_code == 303
    assert response.location.endswith("/it/profilo")
    profile = client.get("/it/profilo")
    body = text_of(parse(profile).find(".//main"))
    assert "Mario Rossi" in body and MARIO in body and "SPID" in body
    user = db.session.scalar(select(User).filter_by(fiscal_number=MARIO))
    assert user.email == "mario.rossi@example.org"
    identity = db.session.scalar(select(Identity).filter_by(user_id=user.id))
    assert (identity.provider, identity.profile) == (SPID_OP, "spid")
    request = federation.requests[-1]
    assert len(request["state"]) >= 32 and len(request["nonce"]) >= 32
    assert request["code_challenge_method"] == "S256"
    assert request["acr_values"] == ["https://www.spid.gov.it/SpidL2"]
    assert "https://attributes.eid.gov.it/fiscal_number" in request["claims"]["userinfo"]
    assert last_event().kind == "login_succeeded"


def test_cie_login_of_the_same_person_adds_an_identity_to_the_same_user(client, federation):
    login(client, federation, provider=SPID_OP)
    client.post("/it/esci", data={"csrf_token": _csrf(client, "/it/profilo")})
    federation.subject = "cie-subject-of-mario"
    assert login(client, federation, provider=CIE_OP).status_code == 303
    user = db.session.scalar(select(User).filter_by(fiscal_number=MARIO))
    assert {i.profile for i in user.identities} == {"spid", "cie"}
    assert db.session.scalar(select(func.count(User.id)).filter_by(fiscal_number=MARIO)) == 1


def test_the_language_survives_the_round_trip_through_the_provider(client, federation):
    response = login(client, federation, lang="en")
    assert response.location.endswith("/en/profilo")
    assert federation.requests[-1]["ui_locales"] == ["en"]
    page = parse(client.get(response.location))
    assert page.get("lang") == "en"


def test_login_from_a_service_card_returns_to_that_service(client, federation):
    response = login(client, federation, servizio="assistenza-domiciliare-sad")
    assert response.location.endswith("/it/servizi/assistenza-domiciliare-sad/richiesta")


def test_a_next_address_on_another_site_is_ignored(client, federation):
    response = login(client, federation, next="https://evil.example/steal")
    assert response.location.endswith("/it/profilo")


def test_logout_revokes_the_token_and_ends_the_session(client, federation):
    login(client, federation)
    token = next(iter(federation.access_tokens))
    response = client.post("/it/esci", data={"csrf_token": _csrf(client, "/it/profilo")})
    assert response.status_code == 303
    assert federation.revoked == [token]
    assert sessions_of(MARIO) == 0
    assert client.get("/it/profilo").status_code == 302


def test_logout_without_csrf_token_is_refused(client, federation):
    login(client, federation)
    assert client.post("/it/esci").status_code == 400
    assert sessions_of(MARIO) == 1


def test_an_idle_session_expires_and_its_token_is_revoked(app, client, federation):
    login(client, federation)
    record = db.session.scalar(select(LoginSession).where(LoginSession.ended_at.is_(None)))
    idle = app.config["AUTH_SESSION_IDLE_TIMEOUT"]
    record.last_seen_at -= dt.timedelta(seconds=idle + 1)
    db.session.commit()
    assert client.get("/it/profilo").status_code == 302
    assert federation.revoked and sessions_of(MARIO) == 0
    db.session.refresh(record)
    assert record.end_reason == "idle_timeout" and record.access_token is None


def test_staff_are_recognised_by_fiscal_number(client, federation):
    federation.person["fiscal_number"] = "TINIT-CRVMRC71S12D959K"
    federation.person.update(given_name="Marco", family_name="Cervi")
    login(client, federation)
    body = text_of(parse(client.get("/it/profilo")).find(".//main"))
    assert "Operatore PUA: PUA Sub-ambito Viadanese" in body


def test_the_citizen_can_add_a_contact_email(client, federation):
    login(client, federation)
    token = _csrf(client, "/it/profilo")
    bad = client.post("/it/profilo", data={"csrf_token": token, "contact_email": "not-an-email"})
    assert bad.status_code == 400
    assert "indirizzo email valido" in text_of(parse(bad).find(".//main"))
    good = client.post(
        "/it/profilo", data={"csrf_token": token, "contact_email": "mario.rossi@esempio.it"}
    )
    assert good.status_code == 303
    user = db.session.scalar(select(User).filter_by(fiscal_number=MARIO))
    assert user.preferred_email == "mario.rossi@esempio.it"


def _csrf(client, path):
    return find_all(parse(client.get(path)), ".//input[@name='csrf_token']")[-1].get("value")


# -- refusals: a clear page in the person's language, no session, an audit entry ------------


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("bad_signature", "bad_id_token_signature"),
        ("alg_none", "bad_alg"),
        ("alg_hs256", "bad_alg"),
        ("wrong_aud", "wrong_audience"),
        ("wrong_iss", "wrong_issuer"),
        ("wrong_nonce", "wrong_nonce"),
        ("expired", "expired_id_token"),
        ("low_acr", "low_acr"),
        ("bad_at_hash", "bad_at_hash"),
        ("userinfo_sub_mismatch", "userinfo_sub_mismatch"),
    ],
)
def test_a_forged_or_wrong_answer_is_refused(client, federation, tamper, reason):
    response = start_login(client, lang="en")
    code, state = federation.authorize(response.location)
    federation.tamper.add(tamper)
    result = client.get("/auth/callback", query_string={"code": code, "state": state})
    assert result.status_code == 403
    page = parse(result)
    assert page.get("lang") == "en"
    assert text_of(page.find(".//h1")) == "You have not been logged in"
    assert sessions_of(MARIO) == 0
    assert client.get("/en/profilo").status_code == 302
    event = last_event()
    assert (event.kind, event.reason) == ("login_failed", reason)


def test_a_replayed_state_is_refused(client, federation):
    response = start_login(client)
    code, state = federation.authorize(response.location)
    assert (
        client.get("/auth/callback", query_string={"code": code, "state": state}).status_code == 303
    )
    client.post("/it/esci", data={"csrf_token": _csrf(client, "/it/profilo")})
    again = client.get("/auth/callback", query_string={"code": code, "state": state})
    assert again.status_code == 403
    assert sessions_of(MARIO) == 0
    assert last_event().reason in {"replayed_state", "state_from_another_browser"}


def test_a_state_from_another_browser_is_refused(app, client, federation):
    response = start_login(client)
    code, state = federation.authorize(response.location)
    other_browser = app.test_client()
    result = other_browser.get("/auth/callback", query_string={"code": code, "state": state})
    assert result.status_code == 403
    assert "another browser" in text_of(
        parse(result).find(".//main")
    ) or "altro browser" in text_of(parse(result).find(".//main"))
    assert last_event().reason == "state_from_another_browser"
    assert sessions_of(MARIO) == 0


def test_an_unknown_state_is_refused_and_audited(client, federation):
    result = client.get("/auth/callback", query_string={"code": "x", "state": "y" * 43})
    assert result.status_code == 403
    assert last_event().reason == "unknown_state"


def test_an_error_from_the_provider_is_explained(client, federation):
    response = start_login(client)
    _, state = federation.authorize(response.location)
    result = client.get("/auth/callback", query_string={"error": "access_denied", "state": state})
    assert result.status_code == 403
    assert "annullato" in text_of(parse(result).find(".//main"))
    assert last_event().reason == "provider_error"


def test_a_provider_outside_the_federation_cannot_be_chosen(client, federation):
    response = start_login(client, provider="https://evil.test/oidc/op/")
    assert response.status_code == 400
    assert not federation.requests


@pytest.mark.parametrize(
    "tamper",
    [
        "op_without_trust_mark",
        "unknown_authority",
        "tampered_configuration",
        "statement_signed_by_stranger",
    ],
)
def test_a_provider_with_a_broken_trust_chain_is_not_offered(client, federation, tamper):
    federation.tamper.add(tamper)
    page = parse(client.get("/it/accedi"))
    offered = [b.get("value") for b in find_all(page, ".//button[@name='provider']")]
    assert offered == []
    assert "non è disponibile" in text_of(page.find(".//main"))


def test_the_login_page_says_when_the_trust_anchor_is_down(client, federation):
    federation.tamper.add("ta_down")
    page = parse(client.get("/en/accedi"))
    assert "Login is not available at the moment" in text_of(page.find(".//main"))


# -- our entity configuration ---------------------------------------------------------------


def test_entity_configuration_is_signed_and_complete(app, client, federation):
    response = client.get("/.well-known/openid-federation")
    assert response.mimetype == "application/entity-statement+jwt"
    token = response.get_data(as_text=True)
    header = json.loads(_b64(token.split(".")[0]))
    assert header["typ"] == "entity-statement+jwt"
    claims = json.loads(_b64(token.split(".")[1]))
    verified = jwt.decode(token, KeySet.import_key_set(claims["jwks"]), algorithms=["RS256"])
    claims = verified.claims
    assert claims["iss"] == claims["sub"] == "http://portal.test/"
    assert claims["authority_hints"] == ["https://ta.test/"]
    assert [mark["id"] for mark in claims["trust_marks"]] == [
        "https://www.spid.gov.it/certification/rp/public"
    ]
    rp = claims["metadata"]["openid_relying_party"]
    assert rp["redirect_uris"] == ["http://portal.test/auth/callback"]
    assert rp["token_endpoint_auth_method"] == "private_key_jwt"
    federation_kids = {key["kid"] for key in claims["jwks"]["keys"]}
    core_kids = {key["kid"] for key in rp["jwks"]["keys"]}
    assert federation_kids and core_kids and not federation_kids & core_kids
    assert all("d" not in key for key in claims["jwks"]["keys"] + rp["jwks"]["keys"])
    assert claims["metadata"]["federation_entity"]["federation_resolve_endpoint"]


def test_resolve_answers_for_a_federation_provider_and_refuses_strangers(client, federation):
    ok = client.get("/resolve", query_string={"sub": SPID_OP, "anchor": "https://ta.test/"})
    assert ok.status_code == 200
    claims = json.loads(_b64(ok.get_data(as_text=True).split(".")[1]))
    assert claims["metadata"]["openid_provider"]["issuer"] == SPID_OP
    stranger = client.get(
        "/resolve", query_string={"sub": "https://evil.test/", "anchor": "https://ta.test/"}
    )
    assert stranger.status_code == 404


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_nothing_secret_is_written_to_the_audit_trail(client, federation):
    response = start_login(client)
    code, state = federation.authorize(response.location)
    client.get("/auth/callback", query_string={"code": code, "state": state})
    token = next(iter(federation.access_tokens))
    trail = json.dumps(
        [
            [e.kind, e.reason, e.detail]
            for e in db.session.scalars(select(AuthEvent).order_by(AuthEvent.id))
        ]
    )
    for secret in (code, state, token, federation.requests[-1]["nonce"]):
        assert secret not in trail


def test_login_starts_a_fresh_session(client, federation):
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    login(client, federation)
    with client.session_transaction() as after:
        assert "planted" not in after


def test_an_unknown_provider_is_audited(client, federation):
    start_login(client, provider="https://evil.test/oidc/op/")
    event = last_event()
    assert (event.kind, event.reason) == ("login_refused", "unknown_provider")


def test_every_client_assertion_has_its_own_jti(client, federation):
    login(client, federation)
    client.post("/it/esci", data={"csrf_token": _csrf(client, "/it/profilo")})
    login(client, federation)
    jtis = [
        json.loads(_b64(request["client_assertion"].split(".")[1]))["jti"]
        for request in federation.token_requests
    ]
    assert len(jtis) == 2 and len(set(jtis)) == 2


def test_expire_command_ends_old_sessions_and_revokes_their_tokens(app, runner, client, federation):
    login(client, federation)
    record = db.session.scalar(select(LoginSession).where(LoginSession.ended_at.is_(None)))
    record.created_at -= dt.timedelta(seconds=app.config["AUTH_SESSION_ABSOLUTE_TIMEOUT"] + 1)
    db.session.commit()
    result = runner.invoke(args=["auth", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 tokens revoked, 0 still pending" in result.output
    db.session.refresh(record)
    assert record.end_reason == "absolute_timeout" and record.access_token is None


def test_a_revocation_that_fails_is_retried_later(app, runner, client, federation):
    login(client, federation)
    federation.tamper.add("revocation_down")
    client.post("/it/esci", data={"csrf_token": _csrf(client, "/it/profilo")})
    assert sessions_of(MARIO) == 0 and not federation.revoked
    assert runner.invoke(args=["auth", "expire"]).exit_code == 1
    assert last_event().outcome == "failed"
    federation.tamper.clear()
    assert runner.invoke(args=["auth", "expire"]).exit_code == 0
    assert len(federation.revoked) == 1
