"""Drafts: a request filled in step by step, saved at every step, resumable from any device.

The steps of a draft are the portal's own (for whom, residence, contacts) around the service's
(its form schema). A step can be opened only once the steps before it are complete, so a step
skipped by changing the URL is never skipped."""

import datetime as dt
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.auth.models import User, utcnow
from portal.catalog.models import Comune, Service
from portal.extensions import db
from portal.forms.models import Draft, ServiceForm
from portal.forms.reading import parse
from portal.forms.schema import Choice, Condition, Field, FormSchema, Step
from portal.forms.uploads import discard
from portal.requests.models import Attachment

RELATIONSHIPS = (
    ("child", _l("Son or daughter")),
    ("parent", _l("Mother or father")),
    ("spouse", _l("Spouse or partner")),
    ("sibling", _l("Brother or sister")),
    ("other_relative", _l("Other relative")),
    ("guardian", _l("Guardian or support administrator")),
    ("neighbour", _l("Neighbour or acquaintance")),
    ("professional", _l("Professional (doctor, teacher, social worker)")),
    ("other", _l("Other")),
)
SUMMARY = "riepilogo"


def _choices(pairs) -> tuple[Choice, ...]:
    return tuple(Choice(value=value, label=label) for value, label in pairs)


def beneficiary_step(schema: FormSchema) -> Step:
    """For whom the request is: the applicant, or someone else whose details are asked."""
    fields = []
    other = None
    if schema.beneficiary == "self_or_other":
        fields.append(
            Field(
                id="for_whom",
                type="choice",
                label=_l("Who is this request for?"),
                required=True,
                choices=_choices((("self", _l("For me")), ("other", _l("For someone else")))),
            )
        )
        other = Condition(field="for_whom", equals="other")
    if schema.beneficiary != "self_only":
        help_code = (
            _l("Leave it empty if you do not know it.")
            if schema.beneficiary_fiscal_code == "optional"
            else {}
        )
        fields += [
            Field(
                id="beneficiary_given_name",
                type="text",
                label=_l("The person's first name"),
                required=True,
                max=200,
                visible_if=other,
            ),
            Field(
                id="beneficiary_family_name",
                type="text",
                label=_l("The person's surname"),
                required=True,
                max=200,
                visible_if=other,
            ),
            Field(
                id="beneficiary_fiscal_code",
                type="fiscal_code",
                label=_l("The person's fiscal code"),
                help=help_code,
                required=schema.beneficiary_fiscal_code == "required",
                visible_if=other,
            ),
            Field(
                id="beneficiary_birth_date",
                type="date",
                label=_l("The person's date of birth"),
                min="-120y",
                max="today",
                visible_if=other,
            ),
            Field(
                id="beneficiary_relationship",
                type="choice",
                label=_l("Your relationship with the person"),
                required=True,
                choices=_choices(RELATIONSHIPS),
                visible_if=other,
            ),
        ]
    if not fields:
        return None
    return Step(id="per-chi", title=_l("Who the request is for"), fields=tuple(fields))


def residence_step(schema: FormSchema, comuni: list[Comune]) -> Step:
    self_only = schema.beneficiary == "self_only"
    return Step(
        id="residenza",
        title=_l("Where you live") if self_only else _l("Where the person lives"),
        intro=_l(
            "The comune of residence decides which PUA desk takes care of the request, and is "
            "where a social worker may come for a home visit."
        ),
        fields=(
            Field(
                id="residence_comune",
                type="choice",
                label=_l("Comune of residence"),
                required=True,
                choices=tuple(Choice(value=c.slug, label=c.name) for c in comuni),
            ),
            Field(
                id="residence_address",
                type="address",
                label=_l("Address"),
                help=_l("Where the person lives, if different from the residence."),
                required=True,
            ),
        ),
    )


def contacts_step() -> Step:
    return Step(
        id="contatti",
        title=_l("How we can contact you"),
        intro=_l(
            "We use these only for this request: to tell you when its state changes and to ask "
            "you for documents. They come from your digital identity; change them if you prefer."
        ),
        fields=(
            Field(
                id="contact_email",
                type="email",
                label=_l("Email"),
                required=True,
            ),
            Field(
                id="contact_phone",
                type="phone",
                label=_l("Phone"),
                help=_l("A number where the social worker can call you, mobile if possible."),
                required=True,
            ),
        ),
    )


def schema_of_form(service_form: ServiceForm) -> FormSchema:
    return parse(service_form.definition, service_form.service.slug)


def schema_of(draft: Draft) -> FormSchema:
    return schema_of_form(draft.service_form)


def served_comuni(service: Service) -> list[Comune]:
    """The comuni whose PUA offers the service: only there can it be requested."""
    desks = {offering.desk_id for offering in service.offerings}
    return list(
        db.session.scalars(select(Comune).where(Comune.desk_id.in_(desks)).order_by(Comune.name))
    )


def all_steps(draft: Draft) -> list[Step]:
    """Every step of the draft's form, visible or not, in order."""
    schema = schema_of(draft)
    first = beneficiary_step(schema)
    steps = [first] if first else []
    steps.append(residence_step(schema, served_comuni(draft.service_form.service)))
    steps.extend(schema.steps)
    steps.append(contacts_step())
    return steps


def visible_steps(draft: Draft) -> list[Step]:
    answers = draft.answers or {}
    return [step for step in all_steps(draft) if step.visible(answers)]


def next_step_id(draft: Draft, current: str) -> str:
    ids = [step.id for step in visible_steps(draft)]
    position = ids.index(current) if current in ids else -1
    return ids[position + 1] if position + 1 < len(ids) else SUMMARY


def previous_step_id(draft: Draft, current: str) -> str | None:
    ids = [step.id for step in visible_steps(draft)]
    if current == SUMMARY:
        return ids[-1] if ids else None
    position = ids.index(current) if current in ids else 0
    return ids[position - 1] if position > 0 else None


def first_incomplete(draft: Draft) -> str:
    done = set(draft.completed_steps or [])
    for step in visible_steps(draft):
        if step.id not in done:
            return step.id
    return SUMMARY


def may_open(draft: Draft, step_id: str) -> bool:
    """A step opens when every visible step before it is complete (the summary: all of them)."""
    done = set(draft.completed_steps or [])
    for step in visible_steps(draft):
        if step.id == step_id:
            return True
        if step.id not in done:
            return False
    return step_id == SUMMARY


def lifetime() -> dt.timedelta:
    return dt.timedelta(days=current_app.config["DRAFT_LIFETIME_DAYS"])


def latest_form(service: Service) -> ServiceForm | None:
    return db.session.scalar(
        select(ServiceForm)
        .where(ServiceForm.service_id == service.id)
        .order_by(ServiceForm.version.desc())
        .limit(1)
    )


def start(user: User, service: Service) -> Draft:
    """A new draft, prefilled with the contacts of the digital identity (once-only data)."""
    service_form = latest_form(service)
    now = utcnow()
    draft = Draft(
        public_id=secrets.token_hex(16),
        user_id=user.id,
        service_form=service_form,
        answers={
            "contact_email": user.preferred_email,
            "contact_phone": user.phone,
        },
        completed_steps=[],
        idempotency_key=secrets.token_hex(32),
        created_at=now,
        updated_at=now,
        expires_at=now + lifetime(),
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def find(public_id: str, user: User) -> Draft | None:
    """The user's own draft that is still open; None for anyone else's, expired or sent."""
    if not public_id or len(public_id) > 32:
        return None
    return db.session.scalar(
        select(Draft).where(
            Draft.public_id == public_id,
            Draft.user_id == user.id,
            Draft.submitted_at.is_(None),
            Draft.expires_at > utcnow(),
        )
    )


def sent_request(public_id: str, user: User):
    """The request made from this person's draft, if it has been sent."""
    if not public_id or len(public_id) > 32:
        return None
    draft = db.session.scalar(
        select(Draft).where(
            Draft.public_id == public_id,
            Draft.user_id == user.id,
            Draft.submitted_at.is_not(None),
        )
    )
    return draft.request if draft is not None else None


def save_step(draft: Draft, step: Step, answers: dict) -> None:
    """Keep the answers after a step, mark it complete and push the expiry forward."""
    from portal.forms.builder import drop_hidden

    cleaned = drop_hidden(all_steps(draft), answers)
    draft.answers = cleaned
    done = [s for s in (draft.completed_steps or []) if s != step.id]
    draft.completed_steps = [*done, step.id]
    draft.updated_at = utcnow()
    draft.expires_at = draft.updated_at + lifetime()
    # Files of questions that are now hidden go with their answers.
    visible_files = {
        spec.id
        for s in all_steps(draft)
        if s.visible(cleaned)
        for spec in s.fields
        if spec.visible(cleaned)
    }
    for attachment in draft_attachments(draft):
        if attachment.field_id not in visible_files:
            discard(attachment)
            db.session.delete(attachment)


def draft_attachments(draft: Draft) -> list[Attachment]:
    return list(
        db.session.scalars(
            select(Attachment).where(Attachment.draft_id == draft.id).order_by(Attachment.id)
        )
    )


def of_user(user: User) -> list[Draft]:
    return list(
        db.session.scalars(
            select(Draft)
            .where(
                Draft.user_id == user.id,
                Draft.submitted_at.is_(None),
                Draft.expires_at > utcnow(),
            )
            .order_by(Draft.updated_at.desc())
        )
    )


def expiring_soon(draft: Draft) -> bool:
    return draft.expires_at - utcnow() < dt.timedelta(days=current_app.config["DRAFT_WARNING_DAYS"])


def purge_expired() -> int:
    """Delete drafts past their expiry, with their files; return how many."""
    expired = list(
        db.session.scalars(
            select(Draft).where(Draft.expires_at <= utcnow(), Draft.submitted_at.is_(None))
        )
    )
    for draft in expired:
        for attachment in draft_attachments(draft):
            discard(attachment)
            db.session.delete(attachment)
        db.session.delete(draft)
    db.session.flush()
    return len(expired)
