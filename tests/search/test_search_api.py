import pytest


def test_search_api_contract(client):
    data = client.get("/api/v1/services?q=affitto&lang=it").get_json()
    assert set(data) >= {"total", "results", "facets", "suggestion"}
    first = data["results"][0]
    assert set(first) == {"slug", "title", "summary", "url", "score"}
    assert first["slug"] == "contributo-affitto"
    assert first["url"] == "http://portal.test/it/servizi/contributo-affitto"
    assert data["facets"]["category"]["casa"] >= 1


def test_search_api_comune_and_category_filters(client):
    data = client.get("/api/v1/services?q=&lang=en&comune=ostiglia&category=disabilita").get_json()
    slugs = {r["slug"] for r in data["results"]}
    assert "centro-vita-indipendente" not in slugs and "dopo-di-noi" in slugs
    assert all(r["url"].endswith("?comune=ostiglia") for r in data["results"])


def test_search_api_suggests_a_spelling(client):
    data = client.get("/api/v1/services?q=contributo+afitto&lang=it").get_json()
    assert data["results"][0]["slug"] == "contributo-affitto"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=x&lang=klingon", "lang"),
        ("q=x&comune=atlantis", "comune"),
        ("q=x&category=nope", "category"),
        ("q=x&page=0", "page"),
        ("q=x&page=abc", "page"),
    ],
)
def test_search_api_bad_parameters_are_400_json(client, query, message):
    response = client.get(f"/api/v1/services?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_search_api_hostile_text_is_not_an_error(client):
    for text in ["x" * 10_000, "field:value AND *", '"', "\x00"]:
        response = client.get("/api/v1/services", query_string={"q": text, "lang": "it"})
        assert response.status_code == 200


def test_autocomplete_prefers_titles(client):
    data = client.get("/api/v1/suggest?q=asilo&lang=it").get_json()
    assert data["suggestions"][0]["slug"] == "asilo-nido"
    assert client.get("/api/v1/suggest?q=a&lang=it").get_json() == {"suggestions": []}
