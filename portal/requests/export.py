"""Everything the portal holds about a person (GDPR art. 15), as JSON-ready data."""

from sqlalchemy import select

from portal.auth.models import AuthEvent, LoginSession, User, utcnow
from portal.extensions import db
from portal.forms import drafts
from portal.requests.services import of_user, public_events


def _iso(value):
    return value.isoformat() if value else None


def export(user: User) -> dict:
    """The person's profile, identities, requests with their history and messages, drafts,
    login sessions and login events. Internal notes are staff work, not the person's data."""
    requests = of_user(user)
    return {
        "exported_at": _iso(utcnow()),
        "person": {
            "fiscal_number": user.fiscal_number,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email_from_identity": user.email,
            "phone_from_identity": user.phone,
            "contact_email": user.contact_email,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "identities": [
                {
                    "provider": i.provider,
                    "profile": i.profile,
                    "first_login_at": _iso(i.first_login_at),
                    "last_login_at": _iso(i.last_login_at),
                }
                for i in user.identities
            ],
        },
        "requests": [
            {
                "reference": r.reference,
                "service": r.service.slug,
                "state": r.state,
                "submitted_at": _iso(r.submitted_at),
                "deadline": _iso(r.deadline),
                "closed_at": _iso(r.closed_at),
                "for_self": r.for_self,
                "beneficiary": {
                    "given_name": r.beneficiary_given_name,
                    "family_name": r.beneficiary_family_name,
                    "fiscal_code": r.beneficiary_fiscal_code,
                    "birth_date": _iso(r.beneficiary_birth_date),
                    "relationship": r.relationship_to_applicant,
                },
                "comune": r.comune.slug,
                "pua": r.queue.desk.slug,
                "contact_email": r.contact_email,
                "contact_phone": r.contact_phone,
                "answers": r.answers,
                "consent": {"version": r.consent_version, "at": _iso(r.consent_at)},
                "history": [
                    {"at": _iso(e.at), "kind": e.kind, "from": e.from_state, "to": e.to_state}
                    for e in public_events(r)
                ],
                "messages": [
                    {"at": _iso(m.at), "from_staff": m.from_staff, "body": m.body}
                    for m in r.messages
                ],
                "attachments": [
                    {"name": a.filename, "type": a.mime_type, "size": a.size, "sha256": a.sha256}
                    for a in r.attachments
                ],
                "satisfaction": r.satisfaction,
                "satisfaction_comment": r.satisfaction_comment,
            }
            for r in requests
        ],
        "drafts": [
            {
                "service": d.service_form.service.slug,
                "answers": d.answers,
                "updated_at": _iso(d.updated_at),
                "expires_at": _iso(d.expires_at),
            }
            for d in drafts.of_user(user)
        ],
        "login_sessions": [
            {
                "provider": s.provider,
                "profile": s.profile,
                "level": s.acr,
                "started_at": _iso(s.created_at),
                "ended_at": _iso(s.ended_at),
            }
            for s in db.session.scalars(
                select(LoginSession)
                .where(LoginSession.user_id == user.id)
                .order_by(LoginSession.id)
            )
        ],
        "login_events": [
            {"at": _iso(e.at), "kind": e.kind, "outcome": e.outcome, "provider": e.provider}
            for e in db.session.scalars(
                select(AuthEvent).where(AuthEvent.user_id == user.id).order_by(AuthEvent.id)
            )
        ],
    }
