"""PLACEHOLDER"""

import io
import re
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.catalog.models import Service, ServiceTranslation
from portal.extensions import db
from portal.requests.models import Request
from tests.auth.flows import login
from tests.backoffice.factory import staff_client
from tests.pages import find_all, parse, text_of
from tests.requests import test_filing
from tests.requests.test_filing import fill_in, send

# -- payloads and checks -------------------------------------------------------------------

XSS = '"><img src=x onerror=alert(1)>'
SCRIPT = "<script>alert(1)</script>"
# What must never appear in a page: the payload's markup, live.
LIVE_MARKUP = ("<img src=x", "<script>alert", '"><img')


def html_of(response) -> str:
    return response.get_data(as_text=True)


def assert_inert(response, *, shown: bool = False) -> None:
    """No live markup from a payload; with ``shown``, the payload is there as escaped text."""
    assert response.status_code < 500, response.status_code
    html = html_of(response)
    for live in LIVE_MARKUP:
        assert live not in html, f"{live!r} unescaped in {response.request.path}"
    if shown:
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, "payload not shown as text"


def form_data(page, action_suffix: str, **fields) -> dict:
    """The hidden inputs (CSRF token, version) of the form posting to ``action_suffix``,
    with ``fields`` added: what a browser would send."""
    forms = [
        f
        for f in find_all(parse(page), ".//form")
        if (f.get("action") or "").endswith(action_suffix)
    ]
    assert forms, f"no form posting to {action_suffix}"
    data = {
        i.get("name"): i.get("value") or ""
        for i in forms[0].iter("input")
        if i.get("type") == "hidden" and i.get("name")
    }
    return data | fields


def citizen_request(client, slug="trasporto-sociale") -> Request:
    """File a request online as the logged-in citizen; viadana-anziani, Marco's queue."""
    response = send(client, fill_in(client, slug))
    assert response.status_code == 303
    return db.session.scalars(select(Request).order_by(Request.id.desc())).first()


@pytest.fixture
def citizen(client, federation):
    login(client, federation)
    return client


# == 1. XSS: every text a person writes, shown again to someone ===========================


def test_xss_citizen_message_is_inert_on_the_staff_page(app, citizen, federation):
    req = citizen_request(citizen)
    detail = f"/it/area-personale/richieste/{req.reference}"
    posted = citizen.post(
        f"{detail}/messaggi", data=form_data(citizen.get(detail), "/messaggi", body=XSS)
    )
    assert posted.status_code == 303
    assert_inert(citizen.get(detail), shown=True)
    marco = staff_client(app, federation, "marco")
    assert_inert(marco.get(f"/backoffice/richieste/{req.reference}"), shown=True)


def test_xss_internal_note_is_inert_on_the_staff_page(app, citizen, federation):
    req = citizen_request(citizen)
    marco = staff_client(app, federation, "marco")
    url = f"/backoffice/richieste/{req.reference}"
    posted = marco.post(f"{url}/note", data=form_data(marco.get(url), "/note", body=XSS))
    assert posted.status_code == 303
    assert_inert(marco.get(url), shown=True)
    assert "onerror" not in html_of(citizen.get(f"/it/area-personale/richieste/{req.reference}"))


@pytest.mark.parametrize("action", ["message", "reject", "close"])
def test_xss_staff_text_is_inert_for_the_citizen_and_the_staff(app, citizen, federation, action):
    """A staff message, the reason of a rejection, the outcome of a closure."""
    req = citizen_request(citizen)
    marco = staff_client(app, federation, "marco")
    url = f"/backoffice/richieste/{req.reference}"
    if action == "close":  # closing needs the request in charge
        claimed = marco.post(f"{url}/azioni/claim", data=form_data(marco.get(url), "/claim"))
        assert claimed.status_code == 303
    page = marco.get(url)
    data = form_data(page, f"/azioni/{action}", **{f"{action}-note": XSS})
    assert marco.post(f"{url}/azioni/{action}", data=data).status_code == 303
    db.session.refresh(req)
    assert req.state == {"message": "submitted", "reject": "rejected", "close": "closed"}[action]
    assert_inert(marco.get(url), shown=True)
    # The citizen's page shows staff messages; the outcome and reason reach them by mail.
    citizen_page = citizen.get(f"/it/area-personale/richieste/{req.reference}")
    assert_inert(citizen_page, shown=action == "message")


def test_xss_names_from_the_identity_provider_are_inert(app, client, federation):
    federation.person["given_name"] = XSS
    federation.person["family_name"] = SCRIPT
    welcome = login(client, federation)
    assert welcome.status_code == 303
    for url in ("/it/profilo", "/it/", "/it/area-personale/"):
        assert_inert(client.get(url), shown=True)
    req = citizen_request(client)
    assert_inert(client.get(f"/it/area-personale/richieste/{req.reference}"))
    marco = staff_client(app, federation, "marco")
    assert_inert(marco.get(f"/backoffice/richieste/{req.reference}"), shown=True)
    assert_inert(marco.get("/backoffice/"), shown=True)


def test_xss_form_answers_are_inert_in_summary_pages_and_receipt(
    app, citizen, federation, monkeypatch
):
    monkeypatch.setitem(test_filing.VALUES, "text", XSS)
    monkeypatch.setitem(test_filing.VALUES, "longtext", SCRIPT)
    summary = fill_in(citizen, "segnalazione-fragilita")
    assert_inert(citizen.get(summary), shown=True)
    send(citizen, summary)
    req = db.session.scalars(select(Request)).one()
    assert XSS in req.answers.values()
    detail = f"/it/area-personale/richieste/{req.reference}"
    assert_inert(citizen.get(detail), shown=True)
    marco = staff_client(app, federation, "marco")
    assert_inert(marco.get(f"/backoffice/richieste/{req.reference}"), shown=True)
    receipt = citizen.get(f"{detail}/ricevuta.pdf")
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt.data)).pages)
    # Written as the text it is: the PDF has no markup to inject into.
    assert "onerror=alert(1)" in re.sub(r"\s+", "", text).replace("onerror=", "onerror=")


MARKDOWN_ATTACKS = [
    "Testo <script>alert(1)</script> fine",
    "[clicca](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    '[a](JaVaScRiPt:alert(1)) and <a href="javascript:alert(1)">b</a>',
    '<div onmouseover="alert(1)">x</div>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


@pytest.mark.parametrize("markdown", MARKDOWN_ATTACKS)
def test_xss_service_content_is_sanitized_on_the_service_card(client, markdown):
    text = db.session.scalar(
        select(ServiceTranslation)
        .join(Service)
        .where(Service.slug == "trasporto-sociale", ServiceTranslation.locale == "it")
    )
    text.how_to = markdown
    text.summary = markdown
    db.session.commit()
    page = client.get("/it/servizi/trasporto-sociale")
    assert page.status_code == 200
    assert_inert(page)
    assert not dangerous_attributes(page)


def dangerous_attributes(response) -> list:
    """Event handlers and script URLs in the parsed page, wherever they came from."""
    found = []
    for element in parse(response).iter():
        for name, value in element.attrib.items():
            url = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name.lower().startswith("on") or (
                name in ("href", "src", "action", "formaction")
                and url.startswith(("javascript:", "vbscript:", "data:text"))
            ):
                found.append((element.tag, name, value))
    return found


@pytest.mark.parametrize(
    "query",
    [
        {"q": XSS},
        {"q": SCRIPT},
        {"comune": XSS},
        {"categoria": SCRIPT},
        {"area": XSS},
        {"page": XSS},
        {"q": "anziani", "comune": '"><img src=x onerror=alert(1)>'},
    ],
)
def test_xss_search_text_and_filters_are_echoed_escaped(client, query):
    page = client.get("/it/cerca", query_string=query)
    assert page.status_code in (200, 400)
    assert_inert(page)
