"""Retention: old finished requests keep their statistics and lose the person."""

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from portal.audit import AuditRecord
from portal.auth.models import utcnow
from portal.extensions import db
from portal.forms.models import Draft
from portal.ops.cli import ops_cli
from portal.ops.retention import MARKER
from portal.requests.models import Attachment, InternalNote, Message, Request, RequestEvent
from tests.ops import filed_request

LONG_AGO = utcnow() - dt.timedelta(days=4000)


def _run(runner, *args):
    result = runner.invoke(ops_cli, ["retention", *args])
    assert result.exit_code == 0, result.output
    return result


def _old_closed(app):
    return filed_request(
        app,
        state="closed",
        submitted=LONG_AGO,
        closed_at=LONG_AGO + dt.timedelta(days=40),
        outcome="Progetto SAD: diagnosi di demenza",
        satisfaction=4,
    )


def _reload(request_id) -> Request:
    db.session.expire_all()
    return db.session.get(Request, request_id)


def _file_of(app, request) -> Path:
    return Path(app.config["UPLOAD_DIR"]) / request.attachments[0].stored_name


def test_old_closed_request_loses_the_person_and_keeps_the_statistics(app, runner):
    request = _old_closed(app)
    before = (request.reference, request.service_id, request.queue_id, request.state)
    dates = (request.submitted_at, request.closed_at, request.deadline)
    path = _file_of(app, request)
    sha256, size = request.attachments[0].sha256, request.attachments[0].size

    result = _run(runner)

    assert request.reference in result.output
    request = _reload(request.id)
    assert (request.reference, request.service_id, request.queue_id, request.state) == before
    assert (request.submitted_at, request.closed_at, request.deadline) == dates
    assert request.satisfaction == 4
    assert request.beneficiary_given_name == request.beneficiary_family_name == ""
    assert request.beneficiary_fiscal_code is None
    assert request.contact_email is None and request.contact_phone is None
    assert request.answers == {}
    assert request.outcome == MARKER
    assert [m.body for m in request.messages] == [MARKER]
    assert {n.body for n in request.notes} == {MARKER}
    assert all(e.note in (None, MARKER) for e in request.events)
    assert request.events[-1].kind == "anonymised"
    attachment = request.attachments[0]
    assert attachment.filename == MARKER
    assert (attachment.sha256, attachment.size) == (sha256, size)
    assert not path.exists()
    assert (
        db.session.scalar(
            select(AuditRecord.action).where(AuditRecord.object_id == request.reference).limit(1)
        )
        == "request.anonymised"
    )


def test_recent_or_open_requests_are_untouched(app, runner):
    recent = filed_request(app, state="closed", closed_at=utcnow() - dt.timedelta(days=10))
    still_open = filed_request(app, state="in_charge", submitted=LONG_AGO)
    paths = [_file_of(app, recent), _file_of(app, still_open)]

    _run(runner)

    for request in (recent, still_open):
        request = _reload(request.id)
        assert request.beneficiary_family_name == "Verdi"
        assert request.answers
        assert request.messages[0].body != MARKER
        assert "anonymised" not in {e.kind for e in request.events}
    assert all(path.exists() for path in paths)


def test_days_option_overrides_the_configured_period(app, runner):
    recent = filed_request(app, state="rejected", closed_at=utcnow() - dt.timedelta(days=10))

    _run(runner, "--days", "5")

    assert _reload(recent.id).beneficiary_family_name == ""


def test_dry_run_changes_nothing(app, runner):
    request = _old_closed(app)
    path = _file_of(app, request)
    draft = _expired_draft(request)

    result = _run(runner, "--dry-run")

    assert "1 requests would be anonymised" in result.output
    assert request.reference in result.output
    assert "1 expired drafts would be deleted" in result.output
    request = _reload(request.id)
    assert request.beneficiary_family_name == "Verdi"
    assert request.outcome.startswith("Progetto SAD")
    assert path.exists()
    assert db.session.get(Draft, draft.id) is not None


def _expired_draft(request) -> Draft:
    draft = Draft(
        public_id="expired-draft-for-retention",
        user_id=request.applicant_id,
        service_form_id=request.service_form_id,
        answers={"contact_email": "giuseppe.verdi@example.org"},
        idempotency_key="expired-draft-for-retention",
        expires_at=utcnow() - dt.timedelta(days=1),
    )
    db.session.add(draft)
    db.session.commit()
    return draft


def test_running_twice_is_safe(app, runner):
    request = _old_closed(app)
    draft = _expired_draft(request)

    _run(runner)
    second = _run(runner)

    assert "0 requests were anonymised" in second.output
    assert "0 expired drafts were deleted" in second.output
    assert db.session.get(Draft, draft.id) is None
    events = db.session.scalars(
        select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.kind == "anonymised"
        )
    ).all()
    assert len(events) == 1
    assert db.session.scalar(select(Attachment).where(Attachment.request_id == request.id))
    assert db.session.scalar(select(Message.body).where(Message.request_id == request.id)) == MARKER
    assert (
        db.session.scalar(select(InternalNote.body).where(InternalNote.request_id == request.id))
        == MARKER
    )
