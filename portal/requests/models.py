"""Requests, their history, messages, attachments and reference numbers.

Nothing here is ever deleted by a transition: every change of state is an event with who,
when, from, to and why (DESIGN.md, "Requests and their states")."""

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import utcnow
from portal.extensions import db

STATES = (
    "submitted",
    "in_charge",
    "assessment",
    "waiting_citizen",
    "project_defined",
    "rerouted",
    "closed",
    "rejected",
    "withdrawn",
)
OPEN_STATES = ("submitted", "in_charge", "assessment", "waiting_citizen", "rerouted")
# The citizen may withdraw while the request is not yet in assessment.
WITHDRAWABLE = ("submitted", "in_charge", "waiting_citizen", "rerouted")
FINAL_STATES = ("project_defined", "closed", "rejected", "withdrawn")


OPEN_CONDITION = "state IN ('submitted', 'in_charge', 'assessment', 'waiting_citizen', 'rerouted')"


class Request(db.Model):
    """A request sent by a person (the applicant), possibly on behalf of someone else."""

    __tablename__ = "request"
    __table_args__ = (
        # The back-office inbox pages through open requests by deadline (keyset on deadline, id)
        # and through one queue's requests; both stay index scans at a million rows.
        Index(
            "ix_request_open_deadline",
            "deadline",
            "id",
            postgresql_where=text(OPEN_CONDITION),
            sqlite_where=text(OPEN_CONDITION),
        ),
        Index("ix_request_queue_deadline", "queue_id", "deadline", "id"),
        # The dashboard's workload per queue reads only open requests, from the index alone.
        Index(
            "ix_request_open_queue",
            "queue_id",
            postgresql_include=["assigned_to_id", "state", "paused_since", "deadline"],
            postgresql_where=text(OPEN_CONDITION),
            sqlite_where=text(OPEN_CONDITION),
        ),
        Index("ix_request_queue_submitted", "queue_id", "submitted_at", "id"),
        # The dashboard's indicators over a period read these columns from the index alone.
        Index(
            "ix_request_queue_period",
            "queue_id",
            "submitted_at",
            postgresql_include=[
                "state",
                "assessed_at",
                "project_defined_at",
                "project_agreed",
                "satisfaction",
            ],
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    # The draft's key: a second submission of the same draft finds this row instead.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    service_form_id: Mapped[int] = mapped_column(ForeignKey("service_form.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    for_self: Mapped[bool] = mapped_column(Boolean, default=True)
    beneficiary_given_name: Mapped[str] = mapped_column(String(200), default="")
    beneficiary_family_name: Mapped[str] = mapped_column(String(200), default="")
    beneficiary_fiscal_code: Mapped[str | None] = mapped_column(String(16), index=True)
    beneficiary_birth_date: Mapped[dt.date | None] = mapped_column(Date)
    relationship_to_applicant: Mapped[str | None] = mapped_column(String(40))
    comune_id: Mapped[int] = mapped_column(ForeignKey("comune.id"))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    lang: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id"), index=True)
    routing_rule: Mapped[str] = mapped_column(String(300))
    consent_version: Mapped[str] = mapped_column(String(40))
    consent_at: Mapped[dt.datetime] = mapped_column(DateTime)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    deadline: Mapped[dt.date] = mapped_column(Date)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Staff side: who has it, the SLA clock, what the assessment and the project decided.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    paused_since: Mapped[dt.datetime | None] = mapped_column(DateTime)
    paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    state_before_pause: Mapped[str | None] = mapped_column(String(20))
    in_charge_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    assessed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    uvm_date: Mapped[dt.date | None] = mapped_column(Date)
    uvm_team: Mapped[str | None] = mapped_column(String(300))
    project_defined_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    case_manager: Mapped[str | None] = mapped_column(String(200))
    # Whether the person (or their family) agreed to and signed the project: the seeds'
    # "adherence" indicator is the share of defined projects that were agreed.
    project_agreed: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(Text)
    # Raised by every transition: a form from a page shown before a change is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)

    service = relationship("Service", lazy="joined")
    service_form = relationship("ServiceForm")
    applicant = relationship("User", foreign_keys=[applicant_id])
    comune = relationship("Comune", lazy="joined")
    queue = relationship("Queue", lazy="joined")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    notes: Mapped[list["InternalNote"]] = relationship(order_by="InternalNote.id")
    events: Mapped[list["RequestEvent"]] = relationship(
        back_populates="request", order_by="RequestEvent.id"
    )
    messages: Mapped[list["Message"]] = relationship(
        back_populates="request", order_by="Message.id"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="request",
        order_by="Attachment.id",
        primaryjoin="Attachment.request_id == Request.id",
    )

    @property
    def beneficiary_name(self) -> str:
        return f"{self.beneficiary_given_name} {self.beneficiary_family_name}".strip()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def can_withdraw(self) -> bool:
        """Before the assessment starts (a pause during the assessment does not reopen it)."""
        return self.state in WITHDRAWABLE and self.assessed_at is None


class RequestEvent(db.Model):
    """One thing that happened to a request. ``public`` events are shown to the citizen."""

    __tablename__ = "request_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    request: Mapped[Request] = relationship(back_populates="events")
    actor = relationship("User")


class Message(db.Model):
    """A message between the PUA staff and the citizen about a request."""

    __tablename__ = "request_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    from_staff: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    request: Mapped[Request] = relationship(back_populates="messages")
    author = relationship("User")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="message", order_by="Attachment.id"
    )


class Attachment(db.Model):
    """A file a person uploaded: stored outside the web root under a random name, with the
    SHA-256 of its content. It belongs to a draft first, then to the request (or a message)."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft.id", ondelete="SET NULL"), index=True
    )
    request_id: Mapped[int | None] = mapped_column(ForeignKey("request.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("request_message.id"))
    field_id: Mapped[str | None] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    request = relationship("Request", back_populates="attachments", foreign_keys=[request_id])
    message: Mapped[Message | None] = relationship(back_populates="attachments")


class ReferenceCounter(db.Model):
    """The last reference number given per PUA desk and year (PUA-VIA-2026-000123)."""

    __tablename__ = "reference_counter"
    __table_args__ = (UniqueConstraint("desk_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    year: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer, default=0)


class InternalNote(db.Model):
    """A note among staff about a request: never shown to the citizen, never exported to them."""

    __tablename__ = "internal_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    author = relationship("User")


class RoutingRule(db.Model):
    """A routing rule: requests matching every condition given go to ``queue``. Rules are tried
    by ``priority`` (lowest first); the first that matches decides."""

    __tablename__ = "routing_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    comune_id: Mapped[int | None] = mapped_column(ForeignKey("comune.id"))
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    # "minor" (under 18), "adult" (18-64), "elderly" (65 and over), or None for any age.
    age_group: Mapped[str | None] = mapped_column(String(10))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id"))
    description: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    service = relationship("Service")
    area = relationship("Area")
    comune = relationship("Comune")
    desk = relationship("Desk")
    queue = relationship("Queue")
