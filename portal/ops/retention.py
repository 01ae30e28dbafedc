"""Retention: a request finished long ago keeps only what the statistics need.

Closed, rejected and withdrawn requests older than RETENTION_DAYS lose who the person is and
what they wrote (names, fiscal code, birth date, contacts, answers, messages, notes, documents);
the reference, service, queue, comune, dates, states and satisfaction score stay. The event
``anonymised`` marks the request, so a second run leaves it alone."""

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import exists, func, or_, select

from portal import audit
from portal.auth.models import User, utcnow
from portal.extensions import db
from portal.forms import drafts
from portal.forms.models import Draft
from portal.forms.uploads import discard
from portal.outbox.models import OutboxMessage
from portal.requests.models import (
    Attachment,
    InternalNote,
    Message,
    Request,
    RequestEvent,
)

# Written in place of what was removed; the staff read it in the back office (Italian).
MARKER = "[anonimizzato]"
RETIRED_STATES = ("closed", "rejected", "withdrawn")
EVENT = "anonymised"


@dataclass
class Report:
    requests: list[str] = field(default_factory=list)
    files: int = 0
    drafts: int = 0
    idle_users: int = 0


def _anonymised():
    return exists().where(RequestEvent.request_id == Request.id, RequestEvent.kind == EVENT)


def due(cutoff: dt.datetime) -> list[Request]:
    """Requests finished before the cutoff and not yet anonymised."""
    # closed_at is set by every ending; submitted_at stands in for rows older than that rule.
    finished = func.coalesce(Request.closed_at, Request.submitted_at)
    return list(
        db.session.scalars(
            select(Request)
            .where(Request.state.in_(RETIRED_STATES), finished < cutoff, ~_anonymised())
            .order_by(Request.id)
        )
    )


def _attachments(request: Request) -> list[Attachment]:
    in_messages = select(Message.id).where(Message.request_id == request.id)
    return list(
        db.session.scalars(
            select(Attachment)
            .where(or_(Attachment.request_id == request.id, Attachment.message_id.in_(in_messages)))
            .order_by(Attachment.id)
        )
    )


def anonymise(request: Request, days: int) -> int:
    """Remove the personal data of one request; return how many files were deleted."""
    request.beneficiary_given_name = ""
    request.beneficiary_family_name = ""
    request.beneficiary_fiscal_code = None
    request.beneficiary_birth_date = None
    request.contact_email = None
    request.contact_phone = None
    request.relationship_to_applicant = None
    request.answers = {}
    # Staff-written text that may name people: who the team was, who manages the case, why
    # a request was re-routed. The queue and the dates stay for statistics.
    request.uvm_team = MARKER if request.uvm_team else None
    request.case_manager = MARKER if request.case_manager else None
    if request.routing_rule.startswith("re-routed"):
        request.routing_rule = f"re-routed ({MARKER})"
    # Free text written by the person or about them: the outcome of an assessment may be
    # a diagnosis, a comment on the service may name a carer.
    if request.outcome is not None:
        request.outcome = MARKER
    if request.satisfaction_comment is not None:
        request.satisfaction_comment = MARKER
    for message in db.session.scalars(select(Message).where(Message.request_id == request.id)):
        message.body = MARKER
    for note in db.session.scalars(
        select(InternalNote).where(InternalNote.request_id == request.id)
    ):
        note.body = MARKER
    for event in db.session.scalars(
        select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.note.is_not(None)
        )
    ):
        event.note = MARKER
    for draft in db.session.scalars(select(Draft).where(Draft.request_id == request.id)):
        draft.answers = {}
    for mail in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.reference == request.reference)
    ):
        mail.recipient = MARKER
        mail.body = MARKER
    attachments = _attachments(request)
    for attachment in attachments:
        # sha256 and size stay: the audit can still show which document was received.
        discard(attachment)
        attachment.filename = MARKER
    db.session.add(
        RequestEvent(
            request_id=request.id,
            kind=EVENT,
            public=False,
            detail={"retention_days": days, "files": len(attachments)},
        )
    )
    audit.record(
        "request.anonymised", "request", request.reference, detail={"retention_days": days}
    )
    return len(attachments)


def idle_users(cutoff: dt.datetime) -> int:
    """People with no request left that is not anonymised and no login since the cutoff."""
    pending = select(Request.id).where(Request.applicant_id == User.id, ~_anonymised()).exists()
    return db.session.scalar(
        select(func.count(User.id)).where(
            ~pending, func.coalesce(User.last_login_at, User.created_at) < cutoff
        )
    )


def apply(days: int, *, dry_run: bool = False) -> Report:
    """Anonymise the requests due and delete expired drafts; with dry_run, only count them."""
    cutoff = utcnow() - dt.timedelta(days=days)
    report = Report()
    for request in due(cutoff):
        report.requests.append(request.reference)
        if dry_run:
            report.files += len(_attachments(request))
        else:
            report.files += anonymise(request, days)
    if dry_run:
        report.drafts = db.session.scalar(
            select(func.count(Draft.id)).where(
                Draft.expires_at <= utcnow(), Draft.submitted_at.is_(None)
            )
        )
    else:
        db.session.flush()
        report.drafts = drafts.purge_expired()
    report.idle_users = idle_users(cutoff)
    return report
