"""The logged-in person: the session behind the cookie, its timeouts, logout and revocation."""

import datetime as dt

from flask import current_app, g, session
from sqlalchemy import bindparam, delete, select

from portal.auth import oidc
from portal.auth.models import LoginAttempt, LoginSession, utcnow
from portal.auth.services import SESSION_KEY, audit, provider_by_id, runtime
from portal.extensions import db

# Built once: every request asks it.
OPEN_SESSION = select(LoginSession).where(
    LoginSession.key == bindparam("key"), LoginSession.ended_at.is_(None)
)


def _session_record() -> LoginSession | None:
    key = session.get(SESSION_KEY)
    if not key or not isinstance(key, str):
        return None
    return db.session.scalar(OPEN_SESSION, {"key": key})


def expiry_reason(record: LoginSession, now: dt.datetime) -> str | None:
    config = current_app.config
    if now - record.created_at > dt.timedelta(seconds=config["AUTH_SESSION_ABSOLUTE_TIMEOUT"]):
        return "absolute_timeout"
    if now - record.last_seen_at > dt.timedelta(seconds=config["AUTH_SESSION_IDLE_TIMEOUT"]):
        return "idle_timeout"
    return None


def load_current_user() -> None:
    """Before each request: g.user is the logged-in person or None; expired sessions end."""
    g.user = None
    g.login_session = None
    record = _session_record()
    if record is None:
        if SESSION_KEY in session:
            session.pop(SESSION_KEY)
        return
    now = utcnow()
    reason = expiry_reason(record, now)
    if reason:
        end_session(record, reason)
        session.pop(SESSION_KEY, None)
        g.session_expired = True
        db.session.commit()
        return
    if now - record.last_seen_at > dt.timedelta(seconds=60):
        record.last_seen_at = now
        db.session.commit()
    g.user = record.user
    g.login_session = record


def end_session(record: LoginSession, reason: str) -> None:
    """End a session and revoke its token at the provider. A provider that cannot be reached
    leaves the token stored for `flask auth expire` to retry."""
    record.ended_at = record.ended_at or utcnow()
    record.end_reason = reason
    revoke_token(record)
    audit("session_ended", "ok", provider=record.provider, user_id=record.user_id, reason=reason)


def revoke_token(record: LoginSession) -> bool:
    if not record.access_token:
        return True
    rt = runtime()
    try:
        provider = provider_by_id(record.provider)
        oidc.revoke(rt.http, rt.rp, provider, record.access_token)
    except oidc.LoginError as error:
        audit(
            "token_revocation",
            "failed",
            provider=record.provider,
            user_id=record.user_id,
            reason=error.reason,
        )
        return False
    record.access_token = None
    audit("token_revocation", "ok", provider=record.provider, user_id=record.user_id)
    return True


def logout() -> None:
    record = _session_record()
    if record is not None:
        end_session(record, "logout")
        db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def expire() -> tuple[int, int]:
    """End expired sessions, revoke their tokens (retrying earlier failures) and forget old
    login attempts; returns (tokens revoked, revocations still pending)."""
    now = utcnow()
    db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.created_at < now - dt.timedelta(days=1))
    )
    open_sessions = db.session.scalars(select(LoginSession).where(LoginSession.ended_at.is_(None)))
    for record in open_sessions:
        reason = expiry_reason(record, now)
        if reason:
            record.ended_at = now
            record.end_reason = reason
    db.session.flush()
    revoked = pending = 0
    ended = db.session.scalars(
        select(LoginSession).where(
            LoginSession.ended_at.is_not(None), LoginSession.access_token.is_not(None)
        )
    )
    for record in ended:
        if revoke_token(record):
            revoked += 1
        else:
            pending += 1
    db.session.commit()
    return revoked, pending
