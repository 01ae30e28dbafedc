"""Logging in and out: the portal's side of SPID/CIE, over the database.

The views call these functions; they hold the rules (one-use states bound to the browser,
session lifetimes, who the person is, which roles they have) and write the audit trail.
"""

import datetime as dt
import hashlib
import json
import logging
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from flask import current_app, request, session
from sqlalchemy import select, update

from portal import audit as audit_trail
from portal.auth import federation, oidc, people
from portal.auth.keys import KeyFileError
from portal.auth.keys import load as load_keys
from portal.auth.models import AuthEvent, LoginAttempt, LoginSession, User, utcnow
from portal.extensions import db

log = logging.getLogger(__name__)

ATTEMPT_LIFETIME = dt.timedelta(minutes=10)
BINDING_KEY = "auth_binding"
SESSION_KEY = "login_session"


# -- the relying party and the federation, one per application -----------------------------


class AuthRuntime:
    """What login needs that outlives a request: keys, the federation client, HTTP client."""

    def __init__(self, app):
        config = app.config
        self.entity_id = config["FEDERATION_ENTITY_ID"]
        self.keys = load_keys(
            Path(config["AUTH_KEYS_FILE"]), create=config["ENV_NAME"] != "production"
        )
        self.rp = oidc.RelyingParty(entity_id=self.entity_id, keys=self.keys)
        self.http = httpx.Client(timeout=config["AUTH_HTTP_TIMEOUT"], follow_redirects=False)
        self.cie_providers = set(config["AUTH_CIE_PROVIDERS"])
        anchor_keys = read_anchor_keys(config["FEDERATION_TRUST_ANCHOR_JWKS_FILE"])
        self.federation = (
            federation.FederationClient(
                config["FEDERATION_TRUST_ANCHOR"],
                anchor_keys,
                http=self.http,
                required_trust_marks={
                    "openid_provider": tuple(config["FEDERATION_REQUIRED_PROVIDER_TRUST_MARKS"])
                },
            )
            if config["FEDERATION_TRUST_ANCHOR"] and anchor_keys
            else None
        )
        self._own_marks: tuple[float, list] = (0.0, [])
        self._lock = threading.Lock()

    def provider(self, chain: federation.TrustChain) -> oidc.Provider:
        entity = chain.federation_entity
        return oidc.Provider(
            entity_id=chain.subject,
            profile="cie" if chain.subject in self.cie_providers else "spid",
            metadata=chain.metadata,
            organization_name=entity.get("organization_name") or chain.subject,
            logo_uri=entity.get("logo_uri", ""),
        )

    def own_trust_marks(self) -> list[dict]:
        """Our trust marks, as the Trust Anchor issued them in its statement about us."""
        now = time.time()
        with self._lock:
            if self._own_marks[0] > now:
                return self._own_marks[1]
        marks: list[dict] = []
        expires = now + 60
        if self.federation:
            try:
                statement, _ = self.federation.subordinate_statement(self.entity_id)
                marks = [
                    {"id": mark["id"], "trust_mark": mark["trust_mark"]}
                    for mark in self.federation.verify_trust_marks(
                        self.entity_id, statement.get("trust_marks", [])
                    )
                ]
                expires = min(statement["exp"], now + 3600)
            except federation.FederationError as error:
                log.warning("could not fetch our trust marks: %s", error)
        with self._lock:
            self._own_marks = (expires, marks)
        return marks


def read_anchor_keys(path: str) -> dict | None:
    """The Trust Anchor's pinned public keys, or None when the file is absent (development
    before the local provider has been set up: the login page then says login is unavailable)."""
    try:
        content = json.loads(Path(path).read_text())
    except FileNotFoundError:
        log.warning("no Trust Anchor keys at %s: login is unavailable", path)
        return None
    if not isinstance(content, dict) or not content.get("keys"):
        raise KeyFileError(f"{path} holds no JWKS")
    return content


def runtime() -> AuthRuntime:
    return current_app.extensions["auth"]


def providers() -> list[oidc.Provider]:
    """The identity providers to offer, SPID first, each reached through a verified chain."""
    federation_client = runtime().federation
    if federation_client is None:
        return []
    try:
        chains = federation_client.providers()
    except federation.FederationError as error:
        log.warning("the Trust Anchor could not be read: %s", error)
        return []
    found = [runtime().provider(chain) for chain in chains]
    return sorted(found, key=lambda p: (p.profile != "spid", p.organization_name.lower()))


def provider_by_id(entity_id: str) -> oidc.Provider:
    federation_client = runtime().federation
    if federation_client is None:
        raise oidc.LoginError("federation_not_configured")
    try:
        chain = federation_client.resolve(entity_id, "openid_provider")
    except federation.FederationError as error:
        raise oidc.LoginError(f"untrusted_provider:{error.reason}", str(error)) from error
    return runtime().provider(chain)


# -- the audit trail ------------------------------------------------------------------------


def short_hash(value: str | None) -> str | None:
    """A short, one-way tag to correlate log lines without keeping the secret."""
    return hashlib.sha256(value.encode()).hexdigest()[:16] if value else None


def audit(kind: str, outcome: str, *, provider=None, user_id=None, reason=None, **detail):
    event = AuthEvent(
        kind=kind,
        outcome=outcome,
        provider=provider,
        user_id=user_id,
        ip=request.remote_addr if request else None,
        reason=(reason or "")[:300] or None,
        detail=detail,
    )
    db.session.add(event)
    audit_trail.record(
        f"auth.{kind}",
        "person",
        user_id or "-",
        actor_id=user_id,
        detail={"outcome": outcome, "provider": provider, "reason": event.reason},
    )
    log.info("auth %s %s provider=%s user=%s reason=%s", kind, outcome, provider, user_id, reason)
    return event


# -- logging in -----------------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """A path on this site, or "" : never an absolute URL, a scheme or another host."""
    if not target or not isinstance(target, str) or len(target) > 500:
        return ""
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 32 for char in target)
    ):
        return ""
    return target


def _binding() -> str:
    if BINDING_KEY not in session:
        session[BINDING_KEY] = secrets.token_urlsafe(32)
    return hashlib.sha256(session[BINDING_KEY].encode()).hexdigest()


def begin_login(provider_id: str, *, acr: str, next_url: str, lang: str) -> str:
    """Store a login attempt and return the provider's authorization URL."""
    provider = provider_by_id(provider_id)
    if acr not in oidc.ACR_LEVELS:
        acr = current_app.config["AUTH_DEFAULT_ACR"]
    attempt = LoginAttempt(
        state=oidc.random_secret(),
        nonce=oidc.random_secret(),
        code_verifier=secrets.token_urlsafe(64),
        browser_binding=_binding(),
        provider=provider.entity_id,
        profile=provider.profile,
        acr=acr,
        next_url=safe_next(next_url),
        lang=lang,
    )
    db.session.add(attempt)
    audit(
        "login_started",
        "ok",
        provider=provider.entity_id,
        state=short_hash(attempt.state),
        acr=acr,
    )
    db.session.commit()
    return oidc.authorization_url(
        runtime().rp,
        provider,
        state=attempt.state,
        nonce=attempt.nonce,
        code_verifier=attempt.code_verifier,
        acr=acr,
        ui_locale=lang,
    )


def claim_attempt(state: str | None) -> LoginAttempt:
    """The attempt this callback answers, used up now: a replay or a stranger's state fails."""
    if not state or not isinstance(state, str) or len(state) > 100:
        raise oidc.LoginError("missing_state")
    attempt = db.session.scalar(select(LoginAttempt).where(LoginAttempt.state == state))
    if attempt is None:
        raise oidc.LoginError("unknown_state")
    if BINDING_KEY not in session or not secrets.compare_digest(
        attempt.browser_binding, _binding()
    ):
        raise oidc.LoginError("state_from_another_browser")
    if utcnow() - attempt.created_at > ATTEMPT_LIFETIME:
        raise oidc.LoginError("expired_state")
    # Compare-and-set: of two callbacks with the same state, exactly one gets the attempt.
    claimed = db.session.execute(
        update(LoginAttempt)
        .where(LoginAttempt.id == attempt.id, LoginAttempt.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise oidc.LoginError("replayed_state")
    return attempt


def complete_login(args) -> tuple[User, LoginAttempt]:
    """Finish a login from the callback's query arguments; raise LoginError on any doubt."""
    state = args.get("state")
    try:
        attempt = claim_attempt(state)
    except oidc.LoginError as error:
        db.session.rollback()
        audit("login_failed", "refused", reason=error.reason, state=short_hash(state))
        db.session.commit()
        raise
    # The attempt is used up whatever happens next.
    db.session.commit()
    try:
        if args.get("error"):
            raise oidc.LoginError("provider_error", str(args.get("error"))[:100])
        code = args.get("code")
        if not code or not isinstance(code, str) or len(code) > 2048:
            raise oidc.LoginError("missing_code")
        rt = runtime()
        provider = provider_by_id(attempt.provider)
        tokens = oidc.exchange_code(
            rt.http, rt.rp, provider, code=code, code_verifier=attempt.code_verifier
        )
        id_claims = oidc.validate_id_token(
            tokens["id_token"],
            provider,
            client_id=rt.entity_id,
            nonce=attempt.nonce,
            access_token=tokens["access_token"],
            min_acr=attempt.acr,
        )
        userinfo = oidc.fetch_userinfo(
            rt.http,
            rt.rp,
            provider,
            access_token=tokens["access_token"],
            subject=id_claims["sub"],
        )
        user = people.remember_person(provider, id_claims["sub"], userinfo)
    except oidc.LoginError as error:
        db.session.rollback()
        audit(
            "login_failed",
            "refused",
            provider=attempt.provider,
            reason=error.reason,
            state=short_hash(attempt.state),
        )
        db.session.commit()
        raise
    start_session(
        user, provider.entity_id, provider.profile, id_claims["acr"], tokens["access_token"]
    )
    audit(
        "login_succeeded",
        "ok",
        provider=provider.entity_id,
        user_id=user.id,
        acr=id_claims.get("acr"),
        state=short_hash(attempt.state),
        sub=short_hash(id_claims["sub"]),
    )
    db.session.commit()
    return user, attempt


def start_session(user: User, provider: str, profile: str, acr: str, access_token: str | None):
    """A new session: a fresh key and a cleared cookie, so no earlier id survives login."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    record = LoginSession(
        key=secrets.token_urlsafe(32),
        user_id=user.id,
        provider=provider,
        profile=profile,
        acr=acr,
        access_token=access_token,
    )
    db.session.add(record)
    session[SESSION_KEY] = record.key
    session.permanent = True
    return record
