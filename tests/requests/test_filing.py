"""Filing a request online as a citizen would: every online service's form, start to receipt,
and every kind of bad input refused with nothing changed."""

import datetime as dt
import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.forms import drafts
from portal.forms.models import Draft
from portal.forms.schema import resolve_date
from portal.outbox.models import OutboxMessage
from portal.requests.models import Attachment, Request
from tests.auth.flows import login
from tests.pages import find_all, parse, text_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ONLINE = [
    "punto-unico-di-accesso",
    "segnalazione-fragilita",
    "assistenza-domiciliare-sad",
    "dimissioni-protette",
    "misura-b2",
    "bonus-assistente-familiare",
    "trasporto-sociale",
    "centro-vita-indipendente",
    "assistenza-scolastica-disabili",
    "affido-familiare",
    "asilo-nido",
    "contributo-economico",
    "contributo-affitto",
    "corsi-italiano-l2",
]
VALUES = {
    "text": "Testo di prova",
    "longtext": "Una risposta più lunga, scritta per la prova.",
    "fiscal_code": "VRDGPP40H10I225K",
    "phone": "0375 123456",
    "email": "prova@esempio.it",
    "iban": "IT60X0542811101000000123456",
}


def csrf(page) -> str:
    return find_all(parse(page), ".//main//input[@name='csrf_token']")[0].get("value")


def answer(spec, today):
    """A valid answer to any question of a schema, as a browser would post it."""
    if spec.type in VALUES:
        return {spec.id: VALUES[spec.type]}
    if spec.type == "number":
        low = spec.min if spec.min is not None else 0
        return {spec.id: str(low)}
    if spec.type == "date":
        low, high = spec.date_bounds(today)
        day = low or (high - dt.timedelta(days=1) if high else today)
        return {spec.id: day.isoformat()}
    if spec.type in ("choice",):
        return {spec.id: spec.choices[0].value}
    if spec.type == "multichoice":
        return {spec.id: [spec.choices[0].value]}
    if spec.type == "yesno":
        return {spec.id: "no"}
    if spec.type == "address":
        return {
            f"{spec.id}-street": "Via Roma 1",
            f"{spec.id}-postcode": "46019",
            f"{spec.id}-municipality": "Viadana",
        }
    if spec.type == "file":
        return {spec.id: (io.BytesIO(PDF), "documento.pdf")} if spec.required else {}
    raise AssertionError(spec.type)


def draft_of(url: str) -> Draft:
    public_id = re.search(r"/richiesta/([0-9a-f]{32})/", url).group(1)
    return db.session.scalar(select(Draft).filter_by(public_id=public_id))


def fill_in(client, slug, lang="it", overrides=None):
    """Start a request and answer every step; returns the summary page's URL."""
    start = client.get(f"/{lang}/servizi/{slug}/richiesta")
    assert start.status_code == 200
    response = client.post(f"/{lang}/servizi/{slug}/richiesta", data={"csrf_token": csrf(start)})
    assert response.status_code == 303
    url = response.location
    today = dt.date.today()
    for _ in range(20):
        if url.endswith("/riepilogo"):
            return url
        page = client.get(url)
        assert page.status_code == 200, url
        draft = draft_of(url)
        step_id = url.rsplit("/", 1)[1]
        step = next(s for s in drafts.all_steps(draft) if s.id == step_id)
        data = {"csrf_token": csrf(page)}
        for spec in step.fields:
            data |= answer(spec, today)
            if spec.id == "residence_comune":
                data[spec.id] = "viadana"
            if spec.id == "for_whom":
                data[spec.id] = "self"
        data |= (overrides or {}).get(step_id, {})
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 303, (url, errors_of(response))
        url = response.location
    raise AssertionError("too many steps")


def errors_of(response):
    tree = parse(response)
    return [text_of(e) for e in find_all(tree, ".//*[@id='error-summary']//li")]


def send(client, summary_url):
    page = client.get(summary_url)
    assert page.status_code == 200
    return client.post(summary_url, data={"csrf_token": csrf(page), "consent": "y"})


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def citizen(client, federation):
    login(client, federation)
    return client


@pytest.mark.parametrize("slug", ONLINE)
def test_every_online_service_can_be_requested_start_to_receipt(citizen, slug):
    summary = fill_in(citizen, slug)
    response = send(citizen, summary)
    assert response.status_code == 303
    confirmation = citizen.get(response.location)
    body = text_of(parse(confirmation).find(".//main"))
    reference = re.search(r"PUA-VIA-\d{4}-\d{6}", body).group(0)
    assert "Richiesta inviata" in body or "Request sent" in body
    request = db.session.scalar(select(Request).filter_by(reference=reference))
    assert request.queue.desk.slug == "viadana"
    assert request.queue.slug == f"viadana-{request.service.area.slug}"
    assert [e.kind for e in request.events] == ["submitted"]
    assert request.consent_version


def test_a_full_request_in_english_with_receipt_mail_and_personal_area(citizen):
    summary = fill_in(citizen, "assistenza-domiciliare-sad", lang="en")
    page = parse(citizen.get(summary))
    assert text_of(page.find(".//h1")) == "Check your answers before sending"
    change_links = [
        a.get("href") for a in find_all(page, ".//main//section//a") if "Change" in text_of(a)
    ]
    assert len(change_links) >= 4
    response = send(citizen, summary)
    confirmation = citizen.get(response.location)
    reference = re.search(r"PUA-VIA-\d{4}-\d{6}", confirmation.get_data(as_text=True)).group(0)
    assert "What happens next" in text_of(parse(confirmation).find(".//main"))

    mail = db.session.scalar(select(OutboxMessage).filter_by(reference=reference))
    assert mail.recipient == "prova@esempio.it" and mail.lang == "en"
    assert reference in mail.subject and reference in mail.body

    receipt = citizen.get(f"/en/area-personale/richieste/{reference}/ricevuta.pdf")
    assert receipt.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.data)).pages)
    assert reference in text and "RSSMRA80A01E897X" in text

    area = text_of(parse(citizen.get("/en/area-personale/")).find(".//main"))
    assert reference in area and "Sent, waiting to be taken in charge" in area


def test_sending_twice_creates_one_request(citizen):
    summary = fill_in(citizen, "misura-b2")
    page = citizen.get(summary)
    token = csrf(page)
    first = citizen.post(summary, data={"csrf_token": token, "consent": "y"})
    second = citizen.post(summary, data={"csrf_token": token, "consent": "y"})
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert count(Request) == 1


def test_without_consent_nothing_is_sent(citizen):
    summary = fill_in(citizen, "trasporto-sociale")
    page = citizen.get(summary)
    response = citizen.post(summary, data={"csrf_token": csrf(page)})
    assert response.status_code == 400
    assert "informativa" in " ".join(errors_of(response)).lower()
    assert count(Request) == 0


def test_a_request_on_behalf_of_someone_else(citizen):
    start = citizen.get("/it/servizi/dimissioni-protette/richiesta")
    first = citizen.post(
        "/it/servizi/dimissioni-protette/richiesta", data={"csrf_token": csrf(start)}
    )
    url = first.location
    page = citizen.get(url)
    bad = {
        "csrf_token": csrf(page),
        "for_whom": "other",
        "beneficiary_given_name": "Giuseppe",
        "beneficiary_family_name": "Verdi",
        "beneficiary_fiscal_code": "VRDGPP40H10I225X",
        "beneficiary_relationship": "parent",
    }
    refused = citizen.post(url, data=bad)
    assert refused.status_code == 400
    assert "codice fiscale non è valido" in " ".join(errors_of(refused))
    good = dict(bad, beneficiary_fiscal_code="VRDGPP40H10I225K")
    assert citizen.post(url, data=good).status_code == 303
    summary = fill_in_rest(citizen, draft_of(url))
    send(citizen, summary)
    request = db.session.scalar(select(Request))
    assert not request.for_self
    assert request.beneficiary_fiscal_code == "VRDGPP40H10I225K"
    assert request.relationship_to_applicant == "parent"


def fill_in_rest(client, draft):
    """Continue an existing draft from its first incomplete step."""
    today = dt.date.today()
    while True:
        step_id = drafts.first_incomplete(draft)
        slug = draft.service_form.service.slug
        if step_id == drafts.SUMMARY:
            return f"/it/servizi/{slug}/richiesta/{draft.public_id}/riepilogo"
        url = f"/it/servizi/{slug}/richiesta/{draft.public_id}/{step_id}"
        page = client.get(url)
        step = next(s for s in drafts.all_steps(draft) if s.id == step_id)
        data = {"csrf_token": csrf(page)}
        for spec in step.fields:
            data |= answer(spec, today)
            if spec.id == "residence_comune":
                data[spec.id] = "viadana"
        assert client.post(url, data=data, content_type="multipart/form-data").status_code == 303
        db.session.refresh(draft)


# -- bad input: refused with a clear message, nothing stored --------------------------------


def started(client, slug="assistenza-domiciliare-sad"):
    start = client.get(f"/it/servizi/{slug}/richiesta")
    response = client.post(f"/it/servizi/{slug}/richiesta", data={"csrf_token": csrf(start)})
    return response.location


def test_a_step_skipped_by_url_leads_back_to_the_first_incomplete_one(citizen):
    url = started(citizen)
    draft = draft_of(url)
    later = drafts.all_steps(draft)[3].id
    response = citizen.get(url.rsplit("/", 1)[0] + f"/{later}")
    assert response.status_code == 302 and response.location.endswith("/per-chi")
    summary = citizen.get(url.rsplit("/", 1)[0] + "/riepilogo")
    assert summary.status_code == 302


def test_a_field_not_in_the_schema_is_refused(citizen):
    url = started(citizen)
    page = citizen.get(url)
    response = citizen.post(
        url, data={"csrf_token": csrf(page), "for_whom": "self", "is_admin": "1"}
    )
    assert response.status_code == 400
    assert "domande che non ha" in text_of(parse(response).find(".//main"))
    assert draft_of(url).completed_steps == []


def test_a_missing_csrf_token_is_refused(citizen):
    url = started(citizen)
    response = citizen.post(url, data={"for_whom": "self"})
    assert response.status_code == 400
    assert draft_of(url).completed_steps == []


def test_another_persons_draft_and_request_are_not_found(app, citizen, federation):
    url = started(citizen)
    summary = fill_in(citizen, "trasporto-sociale")
    send(citizen, summary)
    request = db.session.scalar(select(Request))
    stranger = app.test_client()
    federation.person["fiscal_number"] = "TINIT-BNCLRA75M41L020S"
    federation.subject = "laura"
    login(stranger, federation)
    assert stranger.get(url).status_code == 404
    assert stranger.get(f"/it/area-personale/richieste/{request.reference}").status_code == 404
    receipt = f"/it/area-personale/richieste/{request.reference}/ricevuta.pdf"
    assert stranger.get(receipt).status_code == 404


def test_an_oversized_upload_is_refused_and_nothing_is_kept(app, citizen):
    url = started(citizen)
    page = citizen.get(url)
    before = count(Attachment)
    huge = FileStorage(io.BytesIO(b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024)), "grande.pdf")
    # Encoded in memory: the test client would spool 50 MB to a temporary file.
    boundary, body = encode_multipart(
        {"csrf_token": csrf(page), "for_whom": "self", "document": huge}
    )
    response = citizen.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413
    assert "troppo grande" in text_of(parse(response).find(".//h1")).lower()
    assert count(Attachment) == before


def test_a_disguised_executable_is_refused_in_a_step(citizen):
    draft = None
    url = started(citizen, "misura-b2")
    draft = draft_of(url)
    file_step = next(s for s in drafts.all_steps(draft) if any(f.type == "file" for f in s.fields))
    draft.completed_steps = [
        s.id for s in drafts.all_steps(draft)[: drafts.all_steps(draft).index(file_step)]
    ]
    draft.answers = dict(draft.answers, for_whom="self", residence_comune="viadana")
    db.session.commit()
    step_url = url.rsplit("/", 1)[0] + f"/{file_step.id}"
    page = citizen.get(step_url)
    spec = next(f for f in file_step.fields if f.type == "file")
    data = {"csrf_token": csrf(page)}
    for other in file_step.fields:
        if other.type != "file":
            data |= answer(other, dt.date.today())
    data[spec.id] = (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 500), "isee.pdf")
    response = citizen.post(step_url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "non è un documento" in " ".join(errors_of(response))
    assert count(Attachment) == 0


def test_withdraw_reply_rate_and_take_away_my_data(citizen):
    send(citizen, fill_in(citizen, "contributo-affitto"))
    request = db.session.scalar(select(Request))
    detail = f"/it/area-personale/richieste/{request.reference}"
    page = citizen.get(detail)
    token = csrf(page)
    reply = citizen.post(
        f"{detail}/messaggi",
        data={
            "csrf_token": token,
            "body": "Allego il contratto.",
            "document": (io.BytesIO(PDF), "contratto.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 303
    assert "contratto.pdf" in text_of(parse(citizen.get(detail)).find(".//main"))
    assert (
        citizen.post(f"{detail}/valutazione", data={"csrf_token": token, "rating": "5"}).status_code
        == 303
    )
    db.session.refresh(request)
    assert request.satisfaction is None  # not concluded yet: nothing to rate
    refused = citizen.post(f"{detail}/ritira", data={"csrf_token": token})
    assert refused.status_code == 400
    done = citizen.post(f"{detail}/ritira", data={"csrf_token": token, "confirm": "y"})
    assert done.status_code == 303
    db.session.refresh(request)
    assert request.state == "withdrawn" and request.events[-1].kind == "withdrawn"
    exported = json.loads(citizen.get("/it/area-personale/i-miei-dati.json").data)
    assert exported["person"]["fiscal_number"] == "RSSMRA80A01E897X"
    mine = exported["requests"][0]
    assert mine["reference"] == request.reference and mine["state"] == "withdrawn"
    assert mine["messages"][0]["body"] == "Allego il contratto."


def test_a_concluded_request_can_be_rated_once(citizen):
    send(citizen, fill_in(citizen, "asilo-nido"))
    request = db.session.scalar(select(Request))
    request.state = "closed"
    db.session.commit()
    detail = f"/it/area-personale/richieste/{request.reference}"
    token = csrf(citizen.get(detail))
    citizen.post(f"{detail}/valutazione", data={"csrf_token": token, "rating": "4"})
    citizen.post(f"{detail}/valutazione", data={"csrf_token": token, "rating": "1"})
    db.session.refresh(request)
    assert request.satisfaction == 4


def test_drafts_are_listed_with_their_expiry_and_can_be_resumed(citizen):
    url = started(citizen)
    draft = draft_of(url)
    draft.expires_at = draft.updated_at + dt.timedelta(days=2)
    db.session.commit()
    area = text_of(parse(citizen.get("/it/area-personale/")).find(".//main"))
    assert "Attenzione" in area and "Servizio di Assistenza Domiciliare" in area


def test_resolve_date_is_used_for_bounds():
    assert resolve_date("+0d", dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)


def test_expired_drafts_are_hidden_then_purged_with_their_files(app, citizen, runner):
    url = started(citizen)
    draft = draft_of(url)
    draft.expires_at = dt.datetime(2020, 1, 1)
    db.session.commit()
    assert citizen.get(url).status_code == 404
    result = runner.invoke(args=["drafts", "purge"])
    assert "1 expired drafts deleted" in result.output
    assert count(Draft) == 0


def test_an_unknown_or_offline_service_has_no_request_form(citizen):
    assert citizen.get("/it/servizi/non-esiste/richiesta").status_code == 404
    assert citizen.get("/it/servizi/segretariato-sociale/richiesta").status_code == 404


def test_another_persons_attachment_cannot_be_downloaded(app, citizen, federation):
    send(citizen, fill_in(citizen, "contributo-affitto"))
    request = db.session.scalar(select(Request))
    detail = f"/it/area-personale/richieste/{request.reference}"
    token = csrf(citizen.get(detail))
    citizen.post(
        f"{detail}/messaggi",
        data={"csrf_token": token, "body": "Ecco.", "document": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    attachment = db.session.scalar(select(Attachment))
    own = citizen.get(f"/it/area-personale/allegati/{attachment.public_id}")
    assert own.status_code == 200 and own.data == PDF
    own.close()
    stranger = app.test_client()
    federation.person["fiscal_number"] = "TINIT-BNCLRA75M41L020S"
    federation.subject = "laura"
    login(stranger, federation)
    assert stranger.get(f"/it/area-personale/allegati/{attachment.public_id}").status_code == 404


def test_a_change_from_the_summary_returns_to_the_summary(citizen):
    summary = fill_in(citizen, "trasporto-sociale")
    page = parse(citizen.get(summary))
    change = next(
        a.get("href") for a in find_all(page, ".//main//a") if "ritorno=" in (a.get("href") or "")
    )
    form_page = citizen.get(change)
    data = {"csrf_token": csrf(form_page), "for_whom": "self"}
    response = citizen.post(change, data=data)
    assert response.status_code == 303 and response.location.endswith("/riepilogo")


def test_the_staff_of_the_queue_can_download_a_document_others_cannot(app, citizen, federation):
    send(citizen, fill_in(citizen, "contributo-economico"))
    request = db.session.scalar(select(Request))
    detail = f"/it/area-personale/richieste/{request.reference}"
    citizen.post(
        f"{detail}/messaggi",
        data={
            "csrf_token": csrf(citizen.get(detail)),
            "body": "Bolletta.",
            "document": (io.BytesIO(PDF), "bolletta.pdf"),
        },
        content_type="multipart/form-data",
    )
    attachment = db.session.scalar(select(Attachment))
    for fiscal, url, status in (
        # the operator of the queue (viadana-inclusione), in the back office
        ("FNTCHR85L55L826N", f"/backoffice/allegati/{attachment.public_id}", 200),
        # staff never through the citizen's area
        ("FNTCHR85L55L826N", f"/it/area-personale/allegati/{attachment.public_id}", 404),
        # an operator of the same PUA who does not work on that queue
        ("CRVMRC71S12D959K", f"/backoffice/allegati/{attachment.public_id}", 404),
        # an operator of another PUA
        ("BRMLCU79E45F804A", f"/backoffice/allegati/{attachment.public_id}", 404),
    ):
        staff = app.test_client()
        federation.person["fiscal_number"] = f"TINIT-{fiscal}"
        federation.subject = fiscal
        login(staff, federation)
        response = staff.get(url)
        assert response.status_code == status, fiscal
        response.close()


def test_a_service_asking_a_higher_level_asks_to_log_in_again(citizen):
    from portal.catalog.models import Service

    service = db.session.scalar(select(Service).filter_by(slug="misura-b2"))
    service.login_level = "https://www.spid.gov.it/SpidL3"
    db.session.commit()
    response = citizen.get("/it/servizi/misura-b2/richiesta")
    assert response.status_code == 302 and "accedi?servizio=misura-b2" in response.location
    page = citizen.get(response.location)
    assert page.status_code == 200
    assert "livello 3" in text_of(parse(page).find(".//main"))
