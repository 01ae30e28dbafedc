"""Form schemas stored with the catalog, and the drafts citizens fill in step by step."""

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import utcnow
from portal.extensions import db


class ServiceForm(db.Model):
    """One version of a service's request form. Older versions stay, so that a draft started
    before a change is finished with the questions it began with."""

    __tablename__ = "service_form"
    __table_args__ = (UniqueConstraint("service_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    service = relationship("Service")


class Draft(db.Model):
    """A request being filled in: answers so far, saved at every step.

    ``public_id`` is what URLs carry (unguessable); ``idempotency_key`` makes sending it twice
    (double click, back button, two tabs) create one request."""

    __tablename__ = "draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    service_form_id: Mapped[int] = mapped_column(ForeignKey("service_form.id"))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    completed_steps: Mapped[list] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("request.id"))

    user = relationship("User")
    service_form: Mapped[ServiceForm] = relationship(lazy="joined")
    request = relationship("Request", foreign_keys=[request_id])
