"""The bad-input and attack suite, read top to bottom. Every case by kind:

1. XSS: every text a person writes, shown again to someone else
   - a citizen's message on the staff request page (and their own page)
   - an internal note on the staff page (and never on the citizen's)
   - a staff message, a rejection reason, a closing outcome: staff page and citizen's page
   - given_name/family_name from the identity provider: header, profile, personal area,
     staff request page, inbox
   - answers to a form's text fields: summary, citizen's request page, staff page, PDF receipt
   - service content (Markdown with <script>, javascript:/data: links, on* attributes)
   - search text and the comune/categoria/area/page filters echoed on the results page
2. SQL / query-language injection: search page parameters; back-office inbox filters
   (q, coda, stato, ordine, assegnate, scadute, dopo cursor garbage): no 500, nothing of
   another queue, no row changed
3. CSRF: every POST rule of app.url_map (each back-office action spelled out), filled with
   real ids, without a token, as anonymous, citizen, staff and admin: 400 and no row changed
4. IDOR: a table of every URL with an id (draft, request reference, receipt, attachment,
   back-office request/attachment/actions) x another citizen, staff of another PUA, staff of
   the same PUA on other queues: 404, nothing changed; the owner or the queue's staff reach it
5. Oversized bodies: 2 MB forms (413 page in Italian and English), 20 MB uploads to a step
   and to a reply, big JSON to the API and to an HTML form
6. Open redirect: hostile ``next`` values on /it/accedi, through the whole login, and when
   already logged in
7. Mail header injection: CRLF in a contact email (form and profile) refused; CRLF in names
   from the identity provider and in a staff message stays out of the mail headers

Covered in depth elsewhere, not repeated here:
   - forged, replayed or cross-browser OIDC answers: tests/auth/test_login.py
   - uploads (size, disguised executables), IDOR on drafts/requests/attachments, a missing
     CSRF token on a step: tests/requests/test_filing.py
   - the JSON API with bad input and schema fuzzing: tests/api/test_bad_input.py,
     tests/api/test_schemathesis.py
   - back-office permission walk and role matrix: tests/backoffice/test_permissions.py
   - header injection and bad addresses at the outbox: tests/outbox/test_outbox.py
   - security headers, CSP, caching of private pages, rate limits: tests/test_security.py
   - the audit trail's chain: tests/test_audit.py
   - validators and parsers with generated input: tests/security/test_properties.py

The bugs this suite found are fixed; a new one would be marked
``xfail(strict=True, reason="BUG: ...")``.
"""

import io
import re
from urllib.parse import urljoin, urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

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


# == 2. SQL / query-language injection in search and inbox filters ========================

INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE request; --",
    '" OR 1=1 --',
    "1 UNION SELECT fiscal_number, given_name FROM app_user --",
    "%' AND 1=1 AND '%'='",
    "\\' OR 1=1 #",
    "anziani) OR (1=1",
    "title:* OR keywords:*",
    "*:*",
    'NOT AND OR ~ ^2 "unbalanced',
    "a" * 5000,
    "\u202e\ufeff\U0001f600",
    "${7*7}{{7*7}}",
]
SEARCH_FIELDS = ("q", "comune", "categoria", "area", "page")
STATE_TABLES = ("request", "app_user", "service", "routing_rule")


def row_counts() -> dict:
    tables = db.metadata.tables
    return {
        name: db.session.scalar(select(func.count()).select_from(tables[name]))
        for name in STATE_TABLES
    }


@pytest.mark.parametrize("field", SEARCH_FIELDS)
def test_injection_in_search_page_parameters(client, field):
    before = row_counts()
    for value in INJECTIONS:
        page = client.get("/it/cerca", query_string={field: value})
        assert page.status_code in (200, 400), (field, value, page.status_code)
        html = html_of(page)
        # Nothing from the database that the search does not show anyway.
        assert "RSSMRA80A01E897X" not in html and "Traceback" not in html
        assert "49" not in text_of(parse(page).find(".//h1"))
    assert row_counts() == before


@pytest.mark.parametrize("field", ["comune", "categoria", "area", "page"])
def test_control_characters_in_search_filters_are_not_echoed_raw(client, field):
    # The check of every page (tests/htmlcheck.py) raises on the invalid page itself.
    page = client.get("/it/cerca", query_string={field: "x\x01y"})
    assert page.status_code in (200, 400)
    assert "\x01" not in html_of(page)


def test_sql_in_search_text_does_not_match_the_whole_catalog(client):
    injected = client.get("/it/cerca", query_string={"q": "anziani' OR '1'='1"})
    assert injected.status_code == 200
    links = {
        a.get("href")
        for a in find_all(parse(injected), ".//main//a")
        if "/servizi/" in a.get("href", "")
    }
    assert len(links) < db.session.scalar(select(func.count(Service.id)))


INBOX_FIELDS = ("q", "coda", "stato", "ordine", "assegnate", "scadute", "dopo")


@pytest.mark.parametrize("field", INBOX_FIELDS)
def test_injection_in_back_office_inbox_filters(app, federation, field):
    from tests.backoffice.factory import make_request

    own = make_request()  # viadana-anziani: Marco's
    other = make_request(comune="suzzara")  # not Marco's
    marco = staff_client(app, federation, "marco")
    before = row_counts()
    values = [
        *INJECTIONS,
        f"{other.reference}' OR '1'='1",
        "2026-01-01_1 OR 1=1",
        "_",
        "9999-99-99_1",
        "2026-01-01_-1e999",
        "2026-01-01T00:00:00_9" * 50,
    ]
    for value in values:
        page = marco.get("/backoffice/", query_string={field: value})
        assert page.status_code in (200, 302), (field, value, page.status_code)
        if page.status_code == 302:  # a cursor that means nothing: back to the first page
            assert field == "dopo" and urlsplit(page.location).path == "/backoffice/"
            continue
        html = html_of(page)
        assert f"/richieste/{other.reference}" not in html, (field, value)
        assert "Traceback" not in html
    # A plain query still finds Marco's request: the filter works, it is not just refusing.
    assert own.reference in html_of(marco.get("/backoffice/", query_string={"q": own.reference}))
    assert row_counts() == before


# == 3. CSRF on every POST ===================================================================

PDF = test_filing.PDF


@pytest.fixture
def world(app, federation):
    """Real objects for every URL parameter: Giuseppe Verdi's request (viadana-anziani) with a
    document and a draft, an active routing rule, and clients for the people who act on them."""
    from werkzeug.datastructures import FileStorage

    from portal.catalog.models import Queue
    from portal.forms import uploads
    from portal.requests.models import RoutingRule
    from tests.backoffice.factory import make_request

    owner = person_client(app, federation, "VRDGPP40H10I225K", "Giuseppe", "Verdi")
    req = make_request()
    with app.test_request_context("/it/"):
        attachment = uploads.store(
            FileStorage(io.BytesIO(PDF), filename="verbale.pdf"),
            allowed={"application/pdf": "pdf"},
            max_bytes=1024 * 1024,
            owner_id=req.applicant_id,
        )
    attachment.request_id = req.id
    db.session.add(attachment)
    queue = db.session.scalar(select(Queue).filter_by(slug="viadana-generale"))
    rule = RoutingRule(priority=50, queue=queue, description="test", active=True)
    db.session.add(rule)
    db.session.commit()
    start = owner.get("/it/servizi/trasporto-sociale/richiesta")
    started = owner.post(
        "/it/servizi/trasporto-sociale/richiesta", data=form_data(start, "/richiesta")
    )
    draft_id = re.search(r"/richiesta/([0-9a-f]{32})/", started.location).group(1)
    return {
        "owner": owner,
        "request": req,
        "attachment": attachment,
        "draft_id": draft_id,
        "rule": rule,
        "values": {
            "lang": "it",
            "reference": req.reference,
            "draft_id": draft_id,
            "public_id": attachment.public_id,
            "slug": "trasporto-sociale",
            "step_id": "per-chi",
            "rule_id": str(rule.id),
        },
    }


def person_client(app, federation, fiscal, given, family):
    client = app.test_client()
    federation.person.update(fiscal_number=f"TINIT-{fiscal}", given_name=given, family_name=family)
    federation.subject = f"subject-{fiscal}"
    federation.codes.clear()
    assert login(client, federation).status_code == 303
    return client


def fill(rule, values: dict, action: str = "claim") -> str:
    """The rule's URL with every parameter replaced by a real value."""
    return re.sub(
        r"<(?:\w+:)?(\w+)>",
        lambda m: action if m.group(1) == "action" else values[m.group(1)],
        rule.rule,
    )


def post_urls(app, values: dict) -> list[str]:
    """Every POST URL of the application, each back-office action spelled out."""
    from portal.requests.workflow import TRANSITIONS

    urls = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "POST" not in rule.methods:
            continue
        actions = TRANSITIONS if "<action>" in rule.rule else ["-"]
        urls += [fill(rule, values, action) for action in actions]
    return urls


# Whatever a browser might post to any of these forms, all of it valid but the token.
PLAUSIBLE = {
    "body": "Ciao",
    "confirm": "y",
    "consent": "y",
    "rating": "5",
    "for_whom": "self",
    "provider": "x",
    "contact_email": "nuovo@esempio.it",
    "priority": "1",
    "queue": "viadana-generale",
    "conferma": "1",
}


def snapshot() -> dict:
    """Every row of every table but the login bookkeeping, as comparable text."""
    skip = {"login_session", "auth_event", "audit_record", "audit_head"}
    return {
        table.name: sorted(map(repr, db.session.execute(select(table)).all()))
        for table in db.metadata.sorted_tables
        if table.name not in skip
    }


@pytest.mark.parametrize("role", ["anonymous", "citizen", "staff", "admin"])
def test_csrf_every_post_without_a_token_is_refused_and_changes_nothing(
    app, federation, world, role
):
    clients = {
        "anonymous": app.test_client,
        "citizen": lambda: world["owner"],
        "staff": lambda: staff_client(app, federation, "marco"),
        "admin": lambda: staff_client(app, federation, "elena"),
    }
    client = clients[role]()
    urls = post_urls(app, world["values"])
    assert len(urls) >= 23
    for url in urls:
        data = PLAUSIBLE | {
            f"{a}-{k}": v
            for a in ("message", "reject", "close")
            for k, v in (("note", "x"), ("version", "1"))
        }
        before = snapshot()
        response = client.post(url, data=data)
        assert response.status_code == 400, (role, url, response.status_code)
        assert CSRF_MESSAGE in text_of(parse(response).find(".//main")), url
        db.session.expire_all()
        assert snapshot() == before, (role, url)


CSRF_MESSAGE = "non è stato inviato da questo sito"


# == 4. IDOR: someone else's objects by their id ===========================================

# (method, URL, what the owner or the queue's staff get, so a 404 below means something)
IDOR_URLS = [
    ("GET", "/it/servizi/{slug}/richiesta/{draft_id}/per-chi", "owner", 200),
    ("GET", "/it/servizi/{slug}/richiesta/{draft_id}/riepilogo", "owner", 302),
    ("POST", "/it/servizi/{slug}/richiesta/{draft_id}/per-chi", "owner", 303),
    ("POST", "/it/area-personale/bozze/{draft_id}/elimina", "owner", 303),
    ("GET", "/it/area-personale/richieste/{reference}", "owner", 200),
    ("GET", "/it/area-personale/richieste/{reference}/inviata", "owner", 200),
    ("GET", "/it/area-personale/richieste/{reference}/ricevuta.pdf", "owner", 200),
    ("POST", "/it/area-personale/richieste/{reference}/messaggi", "owner", 303),
    ("POST", "/it/area-personale/richieste/{reference}/ritira", "owner", 303),
    ("POST", "/it/area-personale/richieste/{reference}/valutazione", "owner", 303),
    ("GET", "/it/area-personale/allegati/{public_id}", "owner", 200),
    ("GET", "/backoffice/richieste/{reference}", "marco", 200),
    ("POST", "/backoffice/richieste/{reference}/azioni/claim", "marco", 303),
    ("POST", "/backoffice/richieste/{reference}/note", "marco", 303),
    ("GET", "/backoffice/allegati/{public_id}", "marco", 200),
]
# Another citizen; staff of another PUA (Suzzara); staff of the same PUA, other queues.
INTRUDERS = ["laura", "lucia", "chiara"]


def client_of(app, federation, world, who):
    if who == "owner":
        return world["owner"]
    if who == "laura":
        return person_client(app, federation, "BNCLRA75M41L020S", "Laura", "Bianchi")
    return staff_client(app, federation, who)


def idor_data(client, url):
    """What the page would post, with a valid token of the client's own session."""
    token = form_data(client.get("/it/profilo"), "/profilo")["csrf_token"]
    if url.endswith("/per-chi"):  # a step refuses any field it does not ask
        return {"csrf_token": token, "for_whom": "self"}
    return (
        PLAUSIBLE
        | {"csrf_token": token, "claim-csrf_token": token, "version": "1"}
        | {
            "claim-version": "1",
            "reason": "",
        }
    )


def idor_cases():
    for method, template, who, status in IDOR_URLS:
        for intruder in INTRUDERS:
            yield pytest.param(
                method,
                template,
                who,
                status,
                intruder,
                id=f"{intruder}-{method}-{template}",
            )


@pytest.mark.parametrize(("method", "template", "who", "status", "intruder"), list(idor_cases()))
def test_idor_someone_elses_object_is_not_found(
    app, federation, world, method, template, who, status, intruder
):
    url = template.format(**world["values"])
    client = client_of(app, federation, world, intruder)
    before = snapshot()
    response = client.get(url) if method == "GET" else client.post(url, data=idor_data(client, url))
    assert response.status_code == 404, (intruder, url, response.status_code)
    response.close()
    db.session.expire_all()
    assert snapshot() == before, (intruder, url)
    # The control: the object is there, and its owner or its queue's staff reach it.
    rightful = client_of(app, federation, world, who)
    if method == "GET":
        response = rightful.get(url)
    else:
        response = rightful.post(url, data=idor_data(rightful, url))
    assert response.status_code == status, (who, url, response.status_code)
    response.close()


# == 5. Oversized bodies =====================================================================

TWO_MB = "x" * (2 * 1024 * 1024)


@pytest.mark.parametrize(("lang", "words"), [("it", "troppo grande"), ("en", "too large")])
def test_oversized_form_on_a_page_without_uploads_is_a_413_in_the_readers_language(
    citizen, lang, words
):
    before = snapshot()
    for url in (
        f"/{lang}/profilo",
        f"/{lang}/accedi",
        f"/{lang}/servizi/trasporto-sociale/richiesta",
    ):
        response = citizen.post(url, data={"contact_email": TWO_MB, "csrf_token": "x"})
        assert response.status_code == 413, url
        assert words in text_of(parse(response).find(".//h1")).lower(), url
    assert snapshot() == before


def test_oversized_upload_to_a_step_and_to_a_reply_is_a_413(app, citizen):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    req = citizen_request(citizen)
    summary = fill_in(citizen, "trasporto-sociale")
    step = summary.rsplit("/", 1)[0] + "/per-chi"
    detail = f"/it/area-personale/richieste/{req.reference}/messaggi"
    before = snapshot()
    for url in (step, detail):
        huge = FileStorage(io.BytesIO(b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024)), "grande.pdf")
        boundary, body = encode_multipart({"csrf_token": "x", "body": "x", "document": huge})
        response = citizen.post(
            url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )
        assert response.status_code == 413, url
        assert "troppo grande" in text_of(parse(response).find(".//h1")).lower()
    assert snapshot() == before


@pytest.mark.parametrize("method", ["POST", "PUT", "GET"])
def test_a_big_json_body_to_the_api_gets_a_json_answer(client, method):
    body = '{"q": "' + TWO_MB + '"}'
    response = client.open(
        "/api/v1/services", method=method, data=body, content_type="application/json"
    )
    assert response.mimetype in ("application/json", "application/problem+json")
    assert response.status_code in ({"GET": 200}.get(method, 405), 413)


def test_a_json_body_to_an_html_form_is_refused(citizen):
    response = citizen.post(
        "/it/profilo", data='{"contact_email": "a@b.it"}', content_type="application/json"
    )
    assert response.status_code == 400  # no form token: nothing read from the JSON
    big = citizen.post(
        "/it/profilo", data='{"a": "' + TWO_MB + '"}', content_type="application/json"
    )
    assert big.status_code in (400, 413)


# == 6. Open redirect ========================================================================

EVIL_NEXT = [
    "//evil.example",
    "https://evil.example",
    "http:evil.example",
    "https:/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "///evil.example",
    "/\t/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%0d%0aLocation:%20https://evil.example",
    "/%0d%0aLocation:%20https://evil.example",
    "/\r\nLocation: https://evil.example",
    "//evil.example@portal.test",
    "https://portal.test@evil.example/",
    "/" + "a" * 600,
]


def stays_on_site(location: str) -> bool:
    """Read the Location as a browser would (backslashes as slashes, tabs and newlines
    dropped) and tell whether it stays on portal.test."""
    assert "\r" not in location and "\n" not in location
    browser = re.sub(r"[\t\r\n]", "", location).replace("\\", "/").strip()
    target = urlsplit(urljoin("http://portal.test/it/accedi", browser))
    return target.scheme in ("http", "https") and target.netloc == "portal.test"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_open_redirect_next_never_leaves_the_site(client, federation, target):
    page = client.get("/it/accedi", query_string={"next": target})
    assert page.status_code == 200
    kept = [i.get("value") for i in find_all(parse(page), ".//input[@name='next']")]
    assert all(stays_on_site(v or "/") for v in kept)
    landed = login(client, federation, next=target)
    assert landed.status_code == 303 and stays_on_site(landed.location), landed.location
    # Once logged in, the login page sends the person on at once: there too.
    again = client.get("/it/accedi", query_string={"next": target})
    assert again.status_code == 302 and stays_on_site(again.location), again.location


def test_open_redirect_a_local_next_is_kept(client, federation):
    landed = login(client, federation, next="/it/area-personale/?x=1")
    assert urlsplit(landed.location).path == "/it/area-personale/"


# == 7. Header injection into mail ===========================================================

CRLF_EMAIL = "prova@esempio.it\r\nBcc: evil@evil.example"


def test_a_contact_email_with_crlf_is_refused_by_the_form(citizen):
    summary = fill_in(citizen, "trasporto-sociale")
    contacts = summary.rsplit("/", 1)[0] + "/contatti"
    page = citizen.get(contacts)
    draft = test_filing.draft_of(contacts)
    answers = dict(draft.answers)
    for email in (CRLF_EMAIL, "prova@esempio.it\nBcc: evil@evil.example", "a@b.it%0d%0aBcc:x@y.z"):
        response = citizen.post(
            contacts,
            data={
                "csrf_token": test_filing.csrf(page),
                "contact_email": email,
                "contact_phone": "",
            },
        )
        assert response.status_code == 400, email
        db.session.refresh(draft)
        assert draft.answers == answers
    profile = citizen.get("/it/profilo")
    refused = citizen.post(
        "/it/profilo", data=form_data(profile, "/profilo", contact_email=CRLF_EMAIL)
    )
    assert refused.status_code == 400


def test_crlf_in_names_from_the_identity_provider_stays_out_of_mail_headers(
    app, client, federation
):
    from email import message_from_bytes, policy

    from portal.outbox.models import OutboxMessage
    from portal.outbox.sinks import build_email

    federation.person["given_name"] = "Mario\r\nBcc: evil@evil.example"
    federation.person["family_name"] = "Rossi\nSubject: hacked"
    assert login(client, federation).status_code == 303
    req = citizen_request(client)
    marco = staff_client(app, federation, "marco")
    url = f"/backoffice/richieste/{req.reference}"
    data = form_data(marco.get(url), "/azioni/message", **{"message-note": "Ciao\r\nBcc: x@y.z"})
    assert marco.post(f"{url}/azioni/message", data=data).status_code == 303
    mails = list(db.session.scalars(select(OutboxMessage).filter_by(reference=req.reference)))
    assert len(mails) == 2
    for mail in mails:
        assert "\r" not in mail.subject and "\n" not in mail.subject
        assert mail.recipient == "prova@esempio.it"
        with app.test_request_context("/"):
            sent = message_from_bytes(build_email(mail).as_bytes(), policy=policy.default)
        assert sent.get_all("Bcc") is None
        assert sent.get_all("Subject") == [mail.subject]
        assert sorted(sent.keys()) == sorted(
            [
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "Content-Type",
                "Content-Transfer-Encoding",
                "MIME-Version",
                "Content-Language",
            ]
        )
