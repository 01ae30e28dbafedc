"""People, the identities they log in with, staff roles, login sessions and the audit trail."""

import datetime as dt

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

ROLES = ("citizen", "operator", "supervisor", "editor", "admin")
STAFF_ROLES = ROLES[1:]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class User(db.Model):
    """A person. The fiscal number is the stable key: the same person logging in with SPID one
    day and CIE the next is one user with two identities."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_number: Mapped[str] = mapped_column(String(16), unique=True)
    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    # As released by the identity provider at the last login; refreshed at every login.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    # Added by the person in their profile; preferred for messages when present.
    contact_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    identities: Mapped[list["Identity"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Identity.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def preferred_email(self) -> str | None:
        return self.contact_email or self.email

    def grants(self) -> list["StaffRole"]:
        return list(
            db.session.scalars(
                select(StaffRole)
                .where(StaffRole.fiscal_number == self.fiscal_number)
                .order_by(StaffRole.id)
            )
        )

    def roles(self) -> set[str]:
        return {"citizen"} | {grant.role for grant in self.grants()}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))


class Identity(db.Model):
    """One way a user logs in: the provider's entity id and the subject it gives them."""

    __tablename__ = "identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(255))
    # "spid" or "cie": how the provider's button was labelled when the person chose it.
    profile: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(255))
    first_login_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")


class StaffRole(db.Model):
    """A role granted to a fiscal number, so that staff are recognised at their first login.
    Operators and supervisors work for one PUA desk; an operator's grant may be narrowed to one
    queue of that desk (one row per queue). Editors and admins work for the whole portal."""

    __tablename__ = "staff_role"
    __table_args__ = (
        UniqueConstraint("fiscal_number", "role", "desk_id", "queue_id", name="uq_staff_grant"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_number: Mapped[str] = mapped_column(String(16), index=True)
    role: Mapped[str] = mapped_column(String(20))
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queue.id"))

    desk = relationship("Desk")
    queue = relationship("Queue")


class LoginAttempt(db.Model):
    """An authorization request in flight: what the callback must find to accept a response.

    Bound to the browser that started it (``browser_binding`` is the hash of a value kept in
    that browser's session), single use (``used_at``) and short-lived."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(100), unique=True)
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    browser_binding: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(255))
    profile: Mapped[str] = mapped_column(String(10))
    acr: Mapped[str] = mapped_column(String(100))
    next_url: Mapped[str] = mapped_column(String(500), default="")
    lang: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class LoginSession(db.Model):
    """A logged-in browser. The cookie holds only ``key``; the tokens stay on the server so
    that they can be revoked at logout and when the session expires."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(255))
    profile: Mapped[str] = mapped_column(String(10))
    acr: Mapped[str] = mapped_column(String(100))
    # Kept only until revoked; erased then.
    access_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    end_reason: Mapped[str | None] = mapped_column(String(20))

    # Every page reads the session and then its person: one query for both.
    user: Mapped[User] = relationship(lazy="joined")


class AuthEvent(db.Model):
    """The audit trail of authentication: every exchange, success or failure, without secrets.
    Tokens, codes and states never appear in clear; a state is recorded by a short hash."""

    __tablename__ = "auth_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))
    provider: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
