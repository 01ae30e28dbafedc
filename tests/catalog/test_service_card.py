import json

from sqlalchemy import func, select

from portal.catalog.models import ServiceFeedback, ServiceTranslation
from portal.extensions import db
from tests.pages import by_data_element, csrf_token, find_all, find_one, parse, text_of

MODEL_ORDER_IT = [
    "A chi è rivolto",
    "Come fare",
    "Cosa serve",
    "Cosa si ottiene",
    "Tempi e scadenze",
    "Quanto costa",
    "Accedi al servizio",
    "Condizioni di servizio",
    "Contatti",
    "Argomenti",
]


def test_card_has_the_designers_italia_sections_in_order(client):
    tree = parse(client.get("/it/servizi/assistenza-domiciliare-sad"))
    index = find_one(tree, ".//ul[@data-element='page-index']")
    assert [text_of(a) for a in index.findall(".//a")] == MODEL_ORDER_IT
    headings = [text_of(h) for h in find_all(tree, ".//section[@class='it-page-section mb-5']/h2")]
    assert headings == MODEL_ORDER_IT
    for name in (
        "service-title",
        "service-description",
        "service-status",
        "service-topic",
        "service-area",
        "breadcrumb",
        "feedback",
        "metatag",
    ):
        assert by_data_element(tree, name), name
    assert "Servizio attivo" in text_of(by_data_element(tree, "service-status")[0])
    crumbs = [text_of(li) for li in find_all(tree, ".//ol[@data-element='breadcrumb']/li")]
    assert crumbs[:2] == ["Home/", "Servizi/"] and crumbs[-1].startswith("Servizio di Assistenza")


def test_card_carries_government_service_json_ld(client):
    tree = parse(client.get("/en/servizi/misura-b2"))
    data = json.loads(by_data_element(tree, "metatag")[0].text)
    assert data["@type"] == "GovernmentService"
    assert data["inLanguage"] == "en"
    assert data["name"].startswith("Misura B2")
    assert len(data["areaServed"]) == 46
    assert {op["name"] for op in data["serviceOperator"]} >= {"Consorzio Casalasco Servizi Sociali"}


def test_card_for_a_comune_where_offered_shows_its_desk_and_today(client):
    page = client.get("/it/servizi/assistenza-domiciliare-sad?comune=gonzaga")
    tree = parse(page)
    box = text_of(find_one(tree, ".//section[@aria-labelledby='availability-title']"))
    assert "disponibile per i residenti di Gonzaga" in box
    assert "PUA Ambito di Suzzara" in box
    assert "Oggi" in box


def test_card_for_a_comune_where_not_offered_says_so_and_points_to_its_pua(client):
    tree = parse(client.get("/en/servizi/centro-vita-indipendente?comune=ostiglia"))
    box = text_of(find_one(tree, ".//section[@aria-labelledby='availability-title']"))
    assert "not offered to residents of Ostiglia" in box
    assert "PUA Ambito di Ostiglia" in box


def test_card_with_an_unknown_comune_shows_a_notice_and_no_availability(client):
    response = client.get("/en/servizi/misura-b2?comune=atlantide")
    assert response.status_code == 200
    box = text_of(find_one(parse(response), ".//section[@aria-labelledby='availability-title']"))
    assert 'We do not know the comune "atlantide"' in box
    assert "Yes:" not in box and "No:" not in box


def test_unknown_service_is_a_404_in_the_readers_language(client):
    response = client.get("/en/servizi/does-not-exist")
    assert response.status_code == 404
    assert "Page not found" in text_of(find_one(parse(response), ".//h1"))
    response = client.get("/it/servizi/does-not-exist")
    assert "Pagina non trovata" in text_of(find_one(parse(response), ".//h1"))


def test_english_card_says_the_italian_version_prevails(client):
    tree = parse(client.get("/en/servizi/asilo-nido"))
    assert "the Italian version prevails" in text_of(tree)
    tree = parse(client.get("/it/servizi/asilo-nido"))
    assert "prevails" not in text_of(tree) and "prevale" not in text_of(tree)


def test_missing_english_section_falls_back_to_italian_with_a_notice(client):
    row = db.session.execute(
        select(ServiceTranslation)
        .join(ServiceTranslation.service)
        .where(ServiceTranslation.locale == "en")
        .filter_by(locale="en")
        .where(ServiceTranslation.service.has(slug="trasporto-sociale"))
    ).scalar_one()
    row.documents = ""
    db.session.commit()
    tree = parse(client.get("/en/servizi/trasporto-sociale"))
    section = find_one(tree, ".//section[@id='documents']")
    assert "not yet translated: it is shown in Italian" in text_of(section)
    assert find_one(section, ".//div[@class='section-text']").get("lang") == "it"


def test_rating_a_page_stores_one_anonymous_answer(client):
    page = client.get("/it/servizi/misura-b2")
    before = db.session.execute(select(func.count()).select_from(ServiceFeedback)).scalar()
    response = client.post(
        "/it/servizi/misura-b2/valutazione",
        data={"csrf_token": csrf_token(page), "rating": "4"},
        follow_redirects=True,
    )
    assert "Grazie" in text_of(parse(response))
    after = db.session.execute(select(ServiceFeedback)).scalars().all()
    assert len(after) == before + 1 and after[-1].rating == 4 and after[-1].locale == "it"


def test_rating_out_of_range_is_refused_and_nothing_stored(client):
    page = client.get("/en/servizi/misura-b2")
    response = client.post(
        "/en/servizi/misura-b2/valutazione",
        data={"csrf_token": csrf_token(page), "rating": "9"},
        follow_redirects=True,
    )
    assert "was not saved" in text_of(parse(response))
    assert db.session.execute(select(func.count()).select_from(ServiceFeedback)).scalar() == 0


def test_rating_without_csrf_token_is_refused_in_the_readers_language(client):
    response = client.post("/en/servizi/misura-b2/valutazione", data={"rating": "5"})
    assert response.status_code == 400
    assert "nothing has been saved" in text_of(parse(response))
    assert db.session.execute(select(func.count()).select_from(ServiceFeedback)).scalar() == 0


def test_service_text_cannot_break_out_of_the_json_ld_block(app, client):
    from sqlalchemy import select

    from portal.catalog.models import ServiceTranslation
    from portal.extensions import db

    row = db.session.scalar(select(ServiceTranslation).filter_by(locale="it").limit(1))
    row.summary = "</script><script>alert('x')</script>"
    db.session.commit()
    slug = row.service.slug
    html = client.get(f"/it/servizi/{slug}").get_data(as_text=True)
    assert "<script>alert" not in html
