import pytest

from tests.pages import by_data_element, find_all, find_one, parse, text_of

PAGES = [
    "/{lang}/",
    "/{lang}/servizi/",
    "/{lang}/categorie/",
    "/{lang}/categorie/anziani",
    "/{lang}/eventi-della-vita/",
    "/{lang}/eventi-della-vita/arrivare-in-italia",
    "/{lang}/comuni/",
    "/{lang}/comuni/cingia-de-botti",
    "/{lang}/pua/",
    "/{lang}/pua/viadana",
    "/{lang}/privacy",
    "/{lang}/accessibilita",
    "/{lang}/servizi/punto-unico-di-accesso",
    "/{lang}/servizi/dimissioni-protette?comune=viadana",
]


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_every_public_page_renders_valid_html_in_both_languages(client, path, lang):
    # The checking client validates HTML, <title>, one <h1> and unique ids on every response.
    response = client.get(path.format(lang=lang))
    assert response.status_code == 200
    tree = parse(response)
    assert tree.get("lang") == lang
    assert by_data_element(tree, "privacy-policy-link")
    assert by_data_element(tree, "accessibility-link")


def test_home_has_search_entry_points_popular_services_and_pua_finder(client):
    tree = parse(client.get("/it/"))
    popular = find_one(tree, ".//section[@aria-labelledby='popular-title']")
    titles = [text_of(a) for a in popular.findall(".//a[@data-element='service-link']")]
    assert titles[0] == "Punto Unico di Accesso (PUA)" and len(titles) == 6
    assert len(by_data_element(tree, "service-category-link")) == 12
    options = find_all(tree, ".//select[@id='home-comune']/option")
    assert len(options) == 47  # a prompt and the 46 comuni


def test_find_your_pua_leads_to_the_comune_page(client):
    response = client.get("/en/comuni/?comune=sabbioneta")
    assert response.status_code == 302 and response.location.endswith("/en/comuni/sabbioneta")
    tree = parse(client.get(response.location))
    assert "PUA Sub-ambito Viadanese" in text_of(tree)


def test_find_your_pua_with_an_unknown_comune_explains(client):
    response = client.get("/en/comuni/?comune=gotham", follow_redirects=True)
    assert "We could not find that comune" in text_of(parse(response))


def test_comune_page_lists_services_offered_there_only(client):
    suzzara = text_of(parse(client.get("/en/comuni/suzzara")))
    viadana = text_of(parse(client.get("/en/comuni/viadana")))
    assert "Independent Living Centre" not in suzzara
    assert "Independent Living Centre" in viadana


def test_desk_page_shows_demo_contacts_as_demo(client):
    text = text_of(parse(client.get("/en/pua/suzzara")))
    assert "demo contact: not a real address" in text
    assert "Monday" in text and "Gonzaga" in text


def test_category_page_lists_its_services(client):
    text = text_of(parse(client.get("/it/categorie/stranieri")))
    assert "Corsi di italiano" in text


@pytest.mark.parametrize(
    "path",
    [
        "/it/categorie/nope",
        "/it/eventi-della-vita/nope",
        "/it/comuni/nope",
        "/it/pua/nope",
        "/it/nope",
    ],
)
def test_unknown_slugs_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Pagina non trovata" in text_of(parse(response))
