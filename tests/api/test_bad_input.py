"""The API's bad inputs, one by one: each gets a clear JSON answer and never a 500.

Errors under /api/ are `{"error": {"status": N, "message": "..."}}` with the same N as the HTTP
status, as JSON whatever the client's Accept says. Search text is never parsed as a query
language: SQL, Whoosh syntax, control characters and broken UTF-8 are just (odd) words."""

import pytest

from portal.api import openapi  # adds /api/v1/openapi.json to the API blueprint

SLUG = "assistenza-domiciliare-sad"
SEARCH_KEYS = {"total", "page", "pages", "results", "facets", "suggestion"}
HIT_KEYS = {"slug", "title", "summary", "url", "score"}
GET_ONLY = (
    "/api/v1/services",
    f"/api/v1/services/{SLUG}",
    "/api/v1/suggest",
    "/api/v1/openapi.json",
)


@pytest.fixture(autouse=True)
def no_rate_limits(app, monkeypatch):
    """Many requests from one address: no 429 in the way of the answer under test."""
    for limiter in app.extensions.get("limiter", ()):
        monkeypatch.setattr(limiter, "enabled", False)


def assert_json_error(response, status: int, *fragments: str) -> str:
    """The response is the API's JSON error for `status`; its message holds each fragment."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}, body
    assert body["error"]["status"] == status
    message = body["error"]["message"]
    assert isinstance(message, str) and message.strip()
    for fragment in fragments:
        assert fragment in message, message
    return message


def assert_search_results(response) -> dict:
    """A 200 search answer with exactly the documented keys."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == SEARCH_KEYS
    assert isinstance(body["total"], int) and body["total"] >= 0
    assert 1 <= body["page"] <= body["pages"]
    assert all(set(hit) == HIT_KEYS for hit in body["results"])
    assert body["suggestion"] is None or isinstance(body["suggestion"], str)
    return body


# --- page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "abc",
        "0",
        "-1",
        "1.5",
        "1e3",
        "0x10",
        "%2B2",
        "1001",
        "99999999999999999999999999999999",
        "%00",
        "1%00",
        "%20",
    ],
)
def test_bad_page_is_a_400(client, page):
    response = client.get(f"/api/v1/services?page={page}")
    assert_json_error(response, 400, "page")


@pytest.mark.parametrize("page", ["%C2%B2", "%E2%91%A0"], ids=["superscript-two", "circled-one"])
def test_page_that_str_isdigit_accepts_but_int_refuses_is_a_400(client, page):
    response = client.get(f"/api/v1/services?page={page}")
    assert_json_error(response, 400, "page")


def test_page_bounds(client):
    assert assert_search_results(client.get("/api/v1/services?page=1"))["page"] == 1
    # Past the last page: the last page, not an error.
    last = assert_search_results(client.get("/api/v1/services?page=1000"))
    assert last["page"] == last["pages"]
    # Empty means the default.
    assert assert_search_results(client.get("/api/v1/services?page="))["page"] == 1


# --- lang ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["xx", "EN", "it-IT", "klingon", "%00", "it%00", "%20it"])
@pytest.mark.parametrize(
    "path", ["/api/v1/services", "/api/v1/suggest?q=assis&", f"/api/v1/services/{SLUG}"]
)
def test_unsupported_lang_is_a_400(client, path, lang):
    separator = "" if path.endswith("&") else "?"
    response = client.get(f"{path}{separator}lang={lang}")
    assert_json_error(response, 400, "Unsupported lang", "it, en")


# --- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["comune", "category", "area"])
@pytest.mark.parametrize(
    "value",
    ["atlantide", "%27%20OR%201%3D1%20--", "%00", "x" * 5000, "%E2%80%AE"],
    ids=["unknown", "sql", "null-byte", "5000-chars", "rtl-override"],
)
def test_unknown_filter_is_a_400(client, name, value):
    response = client.get(f"/api/v1/services?{name}={value}")
    message = assert_json_error(response, 400, f"Unknown {name}")
    assert len(message) < 200  # the value is quoted cut short, not echoed whole


def test_known_filters_and_empty_filters(client):
    assert_search_results(client.get("/api/v1/services?comune=suzzara&category=anziani"))
    # Empty filters are no filters.
    assert_search_results(client.get("/api/v1/services?comune=&category=&area="))


# --- search text: never a query language --------------------------------------------------

ODD_TEXTS = {
    "10kB": "a" * 10240,
    "10kB-words": "assistenza " * 1000,
    "sql": "%27%20OR%201%3D1%20--",
    "sql-union": "x%27%20UNION%20SELECT%20*%20FROM%20service%3B--",
    "whoosh-field-star": "title%3A*%20OR",
    "whoosh-and-not": "AND%20NOT%20(",
    "unclosed-quote": "%22unclosed",
    "many-quotes": "%22" * 300,
    "wildcards": "ab*%3F%5B%5D%7B%7D~%5E2",
    "control-chars": "anziani%07%1B%08%7F%C2%85",
    "format-chars": "%E2%80%AEanziani%E2%80%8B%EF%BB%BF",
    "null-bytes": "%00anziani%00",
    "invalid-utf8": "%FF%FEanziani",
    "lone-surrogate": "%ED%A0%80",
    "emoji": "%F0%9F%91%B5%F0%9F%8F%BD",
    "only-spaces": "%20%20%20",
}


@pytest.mark.parametrize("q", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
def test_odd_search_text_is_searched_as_words(client, q):
    assert_search_results(client.get(f"/api/v1/services?q={q}"))


@pytest.mark.parametrize("q", list(ODD_TEXTS.values()), ids=list(ODD_TEXTS))
def test_odd_text_to_suggest_gives_suggestions(client, q):
    response = client.get(f"/api/v1/suggest?q={q}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"suggestions"} and len(body["suggestions"]) <= 8


def test_sql_in_the_text_finds_nothing_special(client):
    plain = assert_search_results(client.get("/api/v1/services?q=zzzqqq"))
    injected = assert_search_results(client.get("/api/v1/services?q=zzzqqq%27%20OR%201%3D1%20--"))
    assert injected["total"] <= plain["total"] + 1
    everything = assert_search_results(client.get("/api/v1/services"))["total"]
    assert injected["total"] < everything


# --- slug ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug",
    [
        "nope",
        "%27%20OR%201%3D1%20--",
        "%00",
        "%1B%5B31m",
        "%E2%80%AE" + SLUG,
        "%FF",
        "x" * 5000,
        SLUG.upper(),
        SLUG + "%20",
    ],
    ids=["unknown", "sql", "null", "ansi", "rtl", "bad-utf8", "5000", "upper", "trailing-space"],
)
def test_unknown_slug_is_a_404(client, slug):
    response = client.get(f"/api/v1/services/{slug}")
    message = assert_json_error(response, 404, "No service with slug")
    assert len(message) < 6000


@pytest.mark.parametrize(
    "path", ["/api/v1/services/a/b", "/api/v1/services/", "/api/v2/services", "/api/v1/%00"]
)
def test_unknown_api_path_is_a_json_404(client, path):
    assert_json_error(client.get(path), 404)


# --- methods ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", GET_ONLY)
def test_other_methods_are_a_json_405(client, method, path):
    response = client.open(path, method=method)
    assert_json_error(response, 405, "not allowed")


@pytest.mark.parametrize("path", GET_ONLY)
def test_405_says_which_methods_are_allowed(client, path):
    response = client.post(path)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers.get("Allow", "").split(",")} >= {"GET", "HEAD"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_refuse_other_methods_in_json(client, path):
    assert_json_error(client.post(path), 405)


@pytest.mark.parametrize("path", [*GET_ONLY, "/healthz", "/readyz"])
def test_head_is_answered_like_get(client, path):
    response = client.head(path)
    assert response.status_code == 200 and response.mimetype == client.get(path).mimetype


# --- bodies on GET ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"q": "anziani", "page": 0, "lang": "xx"}', "application/json"),
        ('{"q": "anziani", ', "application/json"),
        ("q=anziani&page=0", "application/x-www-form-urlencoded"),
        ("\x00\xff" * 100, "application/octet-stream"),
    ],
    ids=["json", "malformed-json", "form", "binary"],
)
def test_a_body_on_a_get_is_ignored(client, body, content_type):
    response = client.get("/api/v1/services?q=anziani", data=body, content_type=content_type)
    found = assert_search_results(response)
    assert found["total"] > 0 and found["page"] == 1
    response = client.get(f"/api/v1/services/{SLUG}", data=body, content_type=content_type)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    response = client.get("/api/v1/suggest?q=assis", data=body, content_type=content_type)
    assert response.status_code == 200 and response.get_json()["suggestions"]


# --- Accept: text/html still gets JSON ----------------------------------------------------

HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/services?lang=xx", 400),
        ("GET", "/api/v1/services?page=abc", 400),
        ("GET", "/api/v1/services?comune=atlantide", 400),
        ("GET", "/api/v1/services/nope", 404),
        ("GET", "/api/v1/nothing-here", 404),
        ("POST", "/api/v1/services", 405),
        ("DELETE", f"/api/v1/services/{SLUG}", 405),
    ],
)
def test_errors_are_json_even_when_html_is_preferred(client, method, path, status):
    response = client.open(path, method=method, headers=HTML_ACCEPT)
    assert_json_error(response, status)


def test_success_is_json_even_when_html_is_preferred(client):
    assert_search_results(client.get("/api/v1/services", headers=HTML_ACCEPT))
    response = client.get(f"/api/v1/services/{SLUG}", headers=HTML_ACCEPT)
    assert response.status_code == 200 and response.mimetype == "application/ld+json"


def test_the_schema_documents_every_error_status_tested_here():
    paths = openapi.openapi_document()["paths"]
    assert set(paths["/api/v1/services"]["get"]["responses"]) == {"200", "400", "429"}
    assert set(paths["/api/v1/services/{slug}"]["get"]["responses"]) == {"200", "400", "404"}
    assert set(paths["/api/v1/suggest"]["get"]["responses"]) == {"200", "400", "429"}
