from portal.catalog import services as catalog
from tests.pages import find_all, find_one, parse, text_of


def test_root_redirects_by_accept_language(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 302 and response.location.endswith("/en/")
    assert "Accept-Language" in response.headers["Vary"]
    response = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert response.location.endswith("/it/")


def test_a_browser_asking_only_for_unsupported_languages_gets_italian_with_a_notice(client):
    response = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,sv;q=0.5"})
    assert response.location.endswith("/it/")
    page = text_of(parse(client.get(response.location)))
    assert "non è disponibile nella lingua del tuo browser" in page
    # A browser that asks for nothing in particular is not told anything.
    client.get("/it/")
    response = client.get("/")
    assert "lingua del tuo browser" not in text_of(parse(client.get(response.location)))


def test_every_page_links_its_other_languages(client):
    tree = parse(client.get("/it/servizi/misura-b2?comune=gonzaga"))
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in find_all(tree, ".//link[@rel='alternate']")
    }
    assert alternates["en"] == "http://portal.test/en/servizi/misura-b2?comune=gonzaga"
    assert alternates["x-default"] == "http://portal.test/"
    canonical = find_one(tree, ".//link[@rel='canonical']").get("href")
    assert canonical == "http://portal.test/it/servizi/misura-b2"
    switcher = find_one(tree, ".//details[@class='language-menu']/ul")
    assert find_one(switcher, ".//a[@hreflang='en']").get("href").endswith("?comune=gonzaga")


def test_a_known_but_unsupported_language_shows_italian_with_a_notice(client):
    response = client.get("/de/servizi/misura-b2", headers={"Accept-Language": "de"})
    assert response.status_code == 302 and response.location.endswith("/it/servizi/misura-b2")
    page = client.get(response.location)
    assert "disponibile nella lingua" in text_of(parse(page))


def test_a_garbage_language_segment_is_a_404_in_the_browsers_language(client):
    response = client.get("/zz-qq/servizi/", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    tree = parse(response)
    assert tree.get("lang") == "en"
    assert text_of(find_one(tree, ".//h1")) == "Page not found"


def test_ui_strings_are_translated(client):
    it = text_of(parse(client.get("/it/")))
    en = text_of(parse(client.get("/en/")))
    assert "Servizi più richiesti" in it
    assert "Most requested services" in en


def test_a_server_error_is_a_500_page_in_the_readers_language(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(catalog, "most_requested", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/en/")
    assert response.status_code == 500
    assert text_of(find_one(parse(response), ".//h1")) == "Something went wrong on our side"
    assert "database on fire" not in response.get_data(as_text=True)
