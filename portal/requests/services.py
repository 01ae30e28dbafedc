"""The citizen's side of a request's life: sending it, following it, answering, withdrawing,
rating, and taking away all one's data.

Each function works inside the caller's transaction and leaves the commit to the view, so that
a request, its first event, its routing and its confirmation mail are written together or not
at all."""

import datetime as dt

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.auth.models import User, utcnow
from portal.catalog.models import Comune
from portal.extensions import db
from portal.forms import drafts
from portal.forms.models import Draft
from portal.outbox.services import enqueue
from portal.requests import workflow
from portal.requests.models import (
    FINAL_STATES,
    Attachment,
    Message,
    ReferenceCounter,
    Request,
    RequestEvent,
)
from portal.requests.routing import route
from portal.requests.workflow import SLA_DAYS

# The version of the privacy notice a person agrees to when sending a request; change it with
# the text of the notice (portal/site/templates/site/privacy.html).
CONSENT_VERSION = "privacy-2026-11"
RATEABLE = ("project_defined", "closed")


class RequestError(ValueError):
    """The action is not possible now; the message says why, in the person's language."""


def desk_code(desk) -> str:
    return desk.slug[:3].upper()


def next_reference(desk, year: int, session=None) -> str:
    """PUA-VIA-2026-000123: numbered per desk and year. The counter row is locked until the
    transaction ends, so two requests never share a number; a rolled-back one leaves a gap."""
    session = session or db.session
    query = (
        select(ReferenceCounter)
        .where(ReferenceCounter.desk_id == desk.id, ReferenceCounter.year == year)
        .with_for_update()
    )
    counter = session.scalar(query)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(desk_id=desk.id, year=year, last=0))
        except IntegrityError:
            pass  # created meanwhile by another request: read it below
        counter = session.scalar(query)
    counter.last += 1
    session.flush()
    return f"PUA-{desk_code(desk)}-{year}-{counter.last:06d}"


def deadline_for(service, submitted: dt.datetime) -> dt.date:
    days = min(SLA_DAYS, service.legal_max_days or SLA_DAYS)
    return submitted.date() + dt.timedelta(days=days)


def _existing(key: str) -> Request | None:
    return db.session.scalar(select(Request).where(Request.idempotency_key == key))


def submit(draft: Draft, *, lang: str) -> Request:
    """Create the request of a complete draft, or return the one already created from it."""
    key = draft.idempotency_key
    found = _existing(key)
    if found is not None:
        return found
    # Serialise two submissions of the same draft (PostgreSQL row lock; SQLite locks on write).
    db.session.scalar(select(Draft.id).where(Draft.id == draft.id).with_for_update())
    found = _existing(key)
    if found is not None:
        return found
    if not drafts.may_open(draft, drafts.SUMMARY):
        raise RequestError(_("Some steps are not complete yet: complete them before sending."))
    answers = draft.answers or {}
    service = draft.service_form.service
    comune = db.session.scalar(select(Comune).filter_by(slug=answers.get("residence_comune")))
    if comune is None or comune not in drafts.served_comuni(service):
        raise RequestError(_("Choose the comune of residence again: this one is not served."))
    now = utcnow()
    for_self = (
        answers.get("for_whom", "self") == "self"
        and draft.service_form.definition.get("beneficiary", "self_or_other") != "other_only"
    )
    birth_date = (
        dt.date.fromisoformat(answers["beneficiary_birth_date"])
        if not for_self and answers.get("beneficiary_birth_date")
        else None
    )
    decision = route(service, comune, birth_date=birth_date)
    applicant = draft.user
    request = Request(
        reference=next_reference(comune.desk, now.year),
        idempotency_key=key,
        service_id=service.id,
        service_form_id=draft.service_form_id,
        applicant_id=applicant.id,
        for_self=for_self,
        beneficiary_given_name=applicant.given_name
        if for_self
        else answers.get("beneficiary_given_name") or "",
        beneficiary_family_name=applicant.family_name
        if for_self
        else answers.get("beneficiary_family_name") or "",
        beneficiary_fiscal_code=applicant.fiscal_number
        if for_self
        else answers.get("beneficiary_fiscal_code"),
        beneficiary_birth_date=birth_date,
        relationship_to_applicant=None if for_self else answers.get("beneficiary_relationship"),
        comune_id=comune.id,
        contact_email=answers.get("contact_email"),
        contact_phone=answers.get("contact_phone"),
        answers=answers,
        lang=lang,
        state="submitted",
        queue_id=decision.queue.id,
        routing_rule=decision.rule,
        consent_version=CONSENT_VERSION,
        consent_at=now,
        submitted_at=now,
        deadline=deadline_for(service, now),
    )
    try:
        with db.session.begin_nested():
            db.session.add(request)
            db.session.flush()
    except IntegrityError:
        # The same draft was sent at the same moment by another tab: that request stands.
        found = _existing(key)
        if found is not None:
            return found
        raise
    for attachment in drafts.draft_attachments(draft):
        attachment.request_id = request.id
    db.session.add(
        RequestEvent(
            request_id=request.id,
            actor_id=applicant.id,
            kind="submitted",
            to_state="submitted",
            detail={"queue": decision.queue.slug, "rule": decision.rule},
        )
    )
    draft.submitted_at = now
    draft.request_id = request.id
    db.session.flush()
    audit.record(
        "request.submitted",
        "request",
        request.reference,
        actor_id=applicant.id,
        detail={"queue": decision.queue.slug, "rule": decision.rule},
    )
    notify(request, "request_received")
    return request


SUBJECTS = {
    "request_received": lambda reference: _("Request %(reference)s received", reference=reference),
    "request_withdrawn": lambda reference: _(
        "Request %(reference)s withdrawn", reference=reference
    ),
}


def notify(request: Request, kind: str) -> None:
    """Mail the citizen about their own action (sent, withdrawn)."""
    _mail(request, kind, f"requests/mail/{kind}.txt", SUBJECTS[kind])


def notify_change(request: Request, action: str, note: str) -> None:
    """Mail the citizen what the PUA did."""
    _mail(
        request,
        f"request_{action}",
        "requests/mail/request_changed.txt",
        lambda reference: _("News about your request %(reference)s", reference=reference),
        action=action,
        note=note,
    )


def _mail(request: Request, kind: str, template: str, subject, **context) -> None:
    """Queue a mail about a request in the language it was sent in; ``subject`` is a function
    of the reference, called once that language is in force."""
    if not request.contact_email:
        return
    with force_locale(request.lang):
        body = render_template(
            template,
            request=request,
            service_title=request.service.text(request.lang).title,
            url=url_for(
                "requests.detail", lang=request.lang, reference=request.reference, _external=True
            ),
            **context,
        )
        enqueue(
            request.contact_email,
            subject(request.reference),
            body,
            kind=kind,
            lang=request.lang,
            reference=request.reference,
        )


def of_user(user: User) -> list[Request]:
    return list(
        db.session.scalars(
            select(Request)
            .where(Request.applicant_id == user.id)
            .order_by(Request.submitted_at.desc())
        )
    )


def find(reference: str, user: User) -> Request | None:
    """The person's own request; None for anyone else's (the page then answers 404)."""
    if not reference or len(reference) > 40:
        return None
    return db.session.scalar(
        select(Request).where(Request.reference == reference, Request.applicant_id == user.id)
    )


def public_events(request: Request) -> list[RequestEvent]:
    return [event for event in request.events if event.public]


def withdraw(request: Request, user: User, reason: str) -> None:
    if not request.can_withdraw:
        raise RequestError(
            _("The request can no longer be withdrawn: the assessment has already started.")
        )
    before = request.state
    request.state = "withdrawn"
    request.closed_at = utcnow()
    db.session.add(
        RequestEvent(
            request_id=request.id,
            actor_id=user.id,
            kind="withdrawn",
            from_state=before,
            to_state="withdrawn",
            note=reason or None,
        )
    )
    audit.record("request.withdrawn", "request", request.reference, actor_id=user.id)
    notify(request, "request_withdrawn")


def reply(request: Request, user: User, body: str, attachment: Attachment | None) -> Message:
    if request.state in FINAL_STATES:
        raise RequestError(_("The request is closed: contact your PUA desk if you need to."))
    message = Message(request_id=request.id, author_id=user.id, from_staff=False, body=body)
    db.session.add(message)
    db.session.flush()
    if attachment is not None:
        attachment.request_id = request.id
        attachment.message_id = message.id
        db.session.add(attachment)
    db.session.add(
        RequestEvent(
            request_id=request.id,
            actor_id=user.id,
            kind="citizen_message",
            public=True,
            detail={"message": message.id},
        )
    )
    audit.record("request.citizen_message", "request", request.reference, actor_id=user.id)
    if request.state == "waiting_citizen":
        # The answer the PUA was waiting for: the clock starts again.
        workflow.resume(request)
        request.version += 1
        db.session.add(
            RequestEvent(
                request_id=request.id,
                actor_id=user.id,
                kind="resume",
                from_state="waiting_citizen",
                to_state=request.state,
            )
        )
    return message


def rate(request: Request, user: User, rating: int, comment: str) -> None:
    if request.state not in RATEABLE:
        raise RequestError(_("You can rate the service once the request is concluded."))
    if request.satisfaction is not None:
        raise RequestError(_("You have already rated this service: thank you."))
    request.satisfaction = rating
    request.satisfaction_comment = comment or None
    audit.record("request.rated", "request", request.reference, actor_id=user.id)
    db.session.add(
        RequestEvent(
            request_id=request.id,
            actor_id=user.id,
            kind="rated",
            public=True,
            detail={"rating": rating},
        )
    )


def can_download(user: User | None, attachment: Attachment) -> bool:
    """Through the personal area: the person who uploaded it or whose request holds it.
    Staff open documents in the back office, which checks their queues and records the read."""
    if user is None:
        return False
    if attachment.owner_id == user.id and attachment.request_id is None:
        return True
    request = attachment.request
    return request is not None and request.applicant_id == user.id


def config_upload_limit() -> int:
    return int(current_app.config["UPLOAD_MAX_MB"] * 1024 * 1024)
