"""Requests made directly in the database, for back-office tests that need many or old ones,
and staff logged in through the in-process federation."""

import datetime as dt
import itertools
import uuid

from sqlalchemy import select

from portal.auth.models import User, utcnow
from portal.catalog.models import Comune, Queue, Service
from portal.extensions import db
from portal.forms.models import ServiceForm
from portal.requests.models import Request, RequestEvent
from tests.auth.flows import login

STAFF = {
    "marco": ("CRVMRC71S12D959K", "Cervi"),  # operator, viadana generale/anziani/disabilita
    "chiara": ("FNTCHR85L55L826N", "Fontana"),  # operator, viadana generale/minori/inclusione
    "lucia": ("BRMLCU79E45F804A", "Brambilla"),  # operator, suzzara (all queues)
    "sara": ("CLMSRA66R61L826M", "Colombo"),  # supervisor, viadana
    "elena": ("NRELNE77C55F205V", "Neri"),  # admin
    "giovanni": ("DLCGNN60A01G489S", "Dalco"),  # editor
    "mario": ("RSSMRA80A01E897X", "Rossi"),  # citizen
}
_numbers = itertools.count(1)


def staff_client(app, federation, who: str):
    client = app.test_client()
    fiscal_number, family_name = STAFF[who]
    federation.person["fiscal_number"] = f"TINIT-{fiscal_number}"
    federation.person["given_name"] = who.capitalize()
    federation.person["family_name"] = family_name
    federation.subject = f"subject-{who}"
    federation.codes.clear()
    login(client, federation)
    return client


def applicant() -> User:
    user = db.session.scalar(select(User).filter_by(fiscal_number="VRDGPP40H10I225K"))
    if user is None:
        user = User(fiscal_number="VRDGPP40H10I225K", given_name="Giuseppe", family_name="Verdi")
        db.session.add(user)
        db.session.flush()
    return user


def make_request(
    service="assistenza-domiciliare-sad",
    comune="viadana",
    queue=None,
    state="submitted",
    submitted=None,
    **fields,
) -> Request:
    service_row = db.session.scalar(select(Service).filter_by(slug=service))
    comune_row = db.session.scalar(select(Comune).filter_by(slug=comune))
    queue_slug = queue or f"{comune_row.desk.slug}-{service_row.area.slug}"
    queue_row = db.session.scalar(select(Queue).filter_by(slug=queue_slug))
    form = db.session.scalar(select(ServiceForm).filter_by(service_id=service_row.id))
    submitted = submitted or utcnow()
    person = applicant()
    number = next(_numbers)
    request = Request(
        reference=f"PUA-TST-{submitted.year}-{number:06d}",
        idempotency_key=uuid.uuid4().hex,
        service_id=service_row.id,
        service_form_id=form.id,
        applicant_id=person.id,
        for_self=True,
        beneficiary_given_name=person.given_name,
        beneficiary_family_name=person.family_name,
        beneficiary_fiscal_code=person.fiscal_number,
        comune_id=comune_row.id,
        contact_email="giuseppe.verdi@example.org",
        answers={},
        lang="it",
        state=state,
        queue_id=queue_row.id,
        routing_rule="test",
        consent_version="test",
        consent_at=submitted,
        submitted_at=submitted,
        deadline=(submitted + dt.timedelta(days=30)).date(),
        **fields,
    )
    db.session.add(request)
    db.session.flush()
    db.session.add(
        RequestEvent(request_id=request.id, kind="submitted", to_state="submitted", at=submitted)
    )
    db.session.commit()
    return request
