import pytest

from tests.pages import find_all, find_one, parse, text_of


def result_slugs(response):
    tree = parse(response)
    links = find_all(
        tree, ".//ol[@class='search-results list-unstyled']//a[@data-element='service-link']"
    )
    return [link.get("href").split("/servizi/")[1].split("?")[0] for link in links]


def test_plain_words_find_the_right_service_first(client):
    assert result_slugs(client.get("/it/cerca?q=cerco+una+badante"))[0] in {
        "bonus-assistente-familiare",
        "sportello-assistenti-familiari",
    }
    assert result_slugs(client.get("/en/cerca?q=help+paying+the+rent"))[0] == "contributo-affitto"


def test_results_show_highlighted_snippets(client):
    tree = parse(client.get("/it/cerca?q=affitto"))
    marks = find_all(tree, ".//ol[@class='search-results list-unstyled']//mark")
    assert any(text_of(m).lower() == "affitto" for m in marks)


def test_a_misspelled_query_is_corrected(client):
    response = client.get("/it/cerca?q=asistenza+domicigliare")
    assert "assistenza domiciliare" in text_of(parse(response))
    assert "assistenza-domiciliare-sad" in result_slugs(response)[:3]


def test_comune_filter_keeps_only_services_offered_there_and_shows_the_desk(client):
    response = client.get("/en/cerca?q=disability&comune=gonzaga")
    assert "centro-vita-indipendente" not in result_slugs(response)
    assert "PUA Ambito di Suzzara" in text_of(parse(response))
    response = client.get("/en/cerca?q=disability&comune=viadana")
    assert "centro-vita-indipendente" in result_slugs(response)


def test_category_facet_counts_and_filter(client):
    tree = parse(client.get("/it/cerca?q=contributo"))
    facet_links = [
        text_of(a) for a in find_all(tree, ".//ul[@class='list-unstyled facet-list']//a")
    ]
    assert any(label.startswith("Sostegno economico (") for label in facet_links)
    response = client.get("/it/cerca?q=contributo&categoria=casa")
    assert result_slugs(response)[0] == "contributo-affitto"
    assert "sportello-immigrazione" not in result_slugs(response)


def test_no_results_page_points_to_the_pua(client):
    tree = parse(client.get("/en/cerca?q=zzxqj+wqvvb"))
    text = text_of(tree)
    assert "0 services found" in text and "PUA" in text
    assert find_one(tree, ".//select[@id='noresults-comune']") is not None
    tree = parse(client.get("/en/cerca?q=zzxqj+wqvvb&comune=quistello"))
    assert "PUA Ambito di Ostiglia" in text_of(tree)


def test_empty_query_lists_every_service_most_requested_first(client):
    slugs = result_slugs(client.get("/it/cerca?q="))
    assert slugs[0] == "punto-unico-di-accesso" and len(slugs) == 10
    assert "33 servizi" in text_of(parse(client.get("/it/cerca")))


def test_second_page(client):
    assert len(result_slugs(client.get("/it/cerca?page=4"))) == 3


@pytest.mark.parametrize(
    "query",
    [
        "",
        "x" * 10_000,
        "!!!???...",
        '"unbalanced quote',
        "AND OR NOT",
        "*",
        "title_it:casa",
        "\x00\x07\x1b[31m",
        "badante 居家护理 رعاية",
        "((((",
        "a" * 300 + " casa",
    ],
)
def test_hostile_queries_give_a_normal_page(client, query):
    response = client.get("/it/cerca", query_string={"q": query})
    assert response.status_code == 200


def test_unknown_filter_is_ignored_with_a_notice(client):
    response = client.get("/en/cerca?q=rent&comune=atlantis")
    assert response.status_code == 200
    assert "does not exist and was ignored" in text_of(parse(response))


def test_quoted_phrase_finds_the_exact_service(client):
    assert result_slugs(client.get('/it/cerca?q="assistenza domiciliare"'))[0] == (
        "assistenza-domiciliare-sad"
    )


def test_foreign_language_queries_reach_italian_cards(client):
    assert result_slugs(client.get("/it/cerca", query_string={"q": "居家护理"}))[0] in {
        "assistenza-domiciliare-sad",
        "adi-cure-domiciliari",
    }
    assert result_slugs(client.get("/it/cerca", query_string={"q": "cours d'italien"}))[0] == (
        "corsi-italiano-l2"
    )
