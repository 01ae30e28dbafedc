"""Every supported language is complete enough to use: the page speaks it, reads in its
direction with the right stylesheet and fonts, and falls back to Italian with a notice."""

import pytest

from tests.pages import find_all, find_one, parse, text_of

RTL = {"ar", "ur"}


def stylesheets(tree) -> list[str]:
    return [link.get("href") for link in find_all(tree, ".//link[@rel='stylesheet']")]


def test_every_supported_locale_has_a_home_page_in_its_language(app, client):
    titles = set()
    for code in app.config["SUPPORTED_LOCALES"]:
        response = client.get(f"/{code}/")
        assert response.status_code == 200, code
        tree = parse(response)
        assert tree.get("lang") == code
        assert tree.get("dir") == ("rtl" if code in RTL else "ltr")
        titles.add(text_of(find_one(tree, ".//h1")))
        sheets = stylesheets(tree)
        assert any(s.endswith("bootstrap-italia.rtl.min.css") for s in sheets) == (code in RTL)
        assert any(s.endswith("fonts/zh.css") for s in sheets) == (code == "zh")
        assert any(s.endswith("fonts/scripts.css") for s in sheets)
    assert len(titles) == len(app.config["SUPPORTED_LOCALES"])  # each one its own words


def test_the_language_menu_names_every_language_in_itself(app, client):
    tree = parse(client.get("/it/"))
    menu = find_one(tree, ".//details[@class='language-menu']")
    names = {item.get("lang"): text_of(item) for item in find_all(menu, ".//ul/li/*")}
    assert set(names) == set(app.config["SUPPORTED_LOCALES"])
    assert names["ar"] == "العربية" and names["pa"] == "ਪੰਜਾਬੀ" and names["zh"] == "中文"


@pytest.mark.parametrize("code", ["fr", "es", "ro", "sq", "uk", "ar", "ur", "pa", "hi", "bn", "zh"])
def test_a_popular_card_is_translated_in_full_and_says_italian_prevails(client, code):
    tree = parse(client.get(f"/{code}/servizi/assistenza-domiciliare-sad"))
    assert find_one(tree, ".//h1").get("lang") is None  # the title is in the reader's language
    assert find_all(tree, ".//p[@class='translation-notice small']")
    sections = find_all(tree, ".//div[@class='section-text']")
    assert len(sections) == 8 and all(s.get("lang") is None for s in sections)


def test_a_section_not_translated_is_shown_in_italian_with_a_notice(client):
    tree = parse(client.get("/ar/servizi/consultorio-familiare"))
    fallback = [s for s in find_all(tree, ".//div[@class='section-text']") if s.get("lang")]
    # Italian, and left to right inside the Arabic page: its punctuation stays in place.
    assert fallback and all((s.get("lang"), s.get("dir")) == ("it", "ltr") for s in fallback)
    notices = find_all(tree, ".//section/p[@class='small fst-italic']")
    assert len(notices) == len(fallback)
    # The essentials are in Arabic.
    assert find_one(tree, ".//h1").get("lang") is None
    assert find_one(tree, ".//section[@id='audience']/div").get("lang") is None


def test_dates_and_numbers_follow_the_locale(client):
    arabic = text_of(parse(client.get("/ar/pua/viadana")))
    chinese = text_of(parse(client.get("/zh/pua/viadana")))
    italian = text_of(parse(client.get("/it/pua/viadana")))
    assert "lunedì" in italian
    assert "الاثنين" in arabic
    assert "星期一" in chinese
