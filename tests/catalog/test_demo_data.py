import pytest
from sqlalchemy import func, select

from portal.catalog import demo_data
from portal.catalog.models import Comune, Desk, Queue, Service
from portal.catalog.models.service import SECTION_FIELDS
from portal.extensions import db

# CATALOG-CONTRACT.md: slug -> (area, online)
CONTRACT_SERVICES = {
    "punto-unico-di-accesso": ("generale", True),
    "segretariato-sociale": ("generale", False),
    "segnalazione-fragilita": ("generale", True),
    "assistenza-domiciliare-sad": ("anziani", True),
    "dimissioni-protette": ("anziani", True),
    "misura-b2": ("anziani", True),
    "bonus-assistente-familiare": ("anziani", True),
    "sportello-assistenti-familiari": ("anziani", False),
    "centro-diurno-integrato": ("anziani", False),
    "ricoveri-di-sollievo": ("anziani", False),
    "trasporto-sociale": ("anziani", True),
    "centro-vita-indipendente": ("disabilita", True),
    "dopo-di-noi": ("disabilita", False),
    "assistenza-scolastica-disabili": ("disabilita", True),
    "inserimento-lavorativo-sil": ("disabilita", False),
    "centro-per-le-famiglie": ("minori-famiglia", False),
    "affido-familiare": ("minori-famiglia", True),
    "sostegno-genitorialita-pippi": ("minori-famiglia", False),
    "tutela-minori": ("minori-famiglia", False),
    "centro-antiviolenza": ("minori-famiglia", False),
    "asilo-nido": ("minori-famiglia", True),
    "educativa-di-strada": ("minori-famiglia", False),
    "informagiovani": ("minori-famiglia", False),
    "sportello-lavoro": ("inclusione", False),
    "assegno-di-inclusione": ("inclusione", False),
    "contributo-economico": ("inclusione", True),
    "contributo-affitto": ("inclusione", True),
    "corsi-italiano-l2": ("inclusione", True),
    "sportello-immigrazione": ("inclusione", False),
    "gioco-azzardo-dipendenze": ("inclusione", False),
    "consultorio-familiare": ("minori-famiglia", False),
    "adi-cure-domiciliari": ("anziani", False),
    "infermiere-di-famiglia": ("anziani", False),
}

CONTRACT_COMUNI = {
    "suzzara": "gonzaga moglia motteggiana pegognaga san-benedetto-po suzzara",
    "viadana": "bozzolo commessaggio dosolo gazzuolo marcaria pomponesco rivarolo-mantovano "
    "sabbioneta san-martino-dall-argine viadana",
    "casalmaggiore": "calvatone casalmaggiore casteldidone cingia-de-botti gussola "
    "martignana-di-po motta-baluffi piadena-drizzona rivarolo-del-re-ed-uniti "
    "san-giovanni-in-croce san-martino-del-lago scandolara-ravara solarolo-rainerio spineda "
    "tornata torricella-del-pizzo voltido",
    "ostiglia": "borgo-mantovano borgocarbonara magnacavallo ostiglia poggio-rusco quingentole "
    "quistello san-giacomo-delle-segnate san-giovanni-del-dosso schivenoglia "
    "sermide-e-felonica serravalle-a-po sustinente",
}


def test_every_contract_service_exists_with_its_area_and_online_flag(app):
    services = {s.slug: s for s in db.session.execute(select(Service)).scalars()}
    for slug, (area, online) in CONTRACT_SERVICES.items():
        assert slug in services, slug
        assert services[slug].area.slug == area, slug
        assert services[slug].online is online, slug


def test_every_comune_is_served_by_the_contract_desk(app):
    comuni = {c.slug: c.desk.slug for c in db.session.execute(select(Comune)).scalars()}
    expected = {slug: desk for desk, names in CONTRACT_COMUNI.items() for slug in names.split()}
    assert comuni == expected


def test_every_desk_has_the_five_area_queues(app):
    slugs = set(db.session.execute(select(Queue.slug)).scalars())
    areas = ("generale", "anziani", "disabilita", "minori-famiglia", "inclusione")
    assert slugs == {f"{desk}-{area}" for desk in CONTRACT_COMUNI for area in areas}


@pytest.mark.parametrize("locale", ["it", "en"])
def test_every_card_is_complete_in_italian_and_english(app, locale):
    for service in db.session.execute(select(Service)).scalars():
        text = service.text(locale)
        assert not text.fallback_fields, (service.slug, locale, text.fallback_fields)
        for name in ("title", "summary", "audience_short", "keywords", *SECTION_FIELDS):
            assert len(getattr(text, name)) > 10, (service.slug, locale, name)


def test_cvi_is_offered_only_in_the_oglio_po(app):
    cvi = db.session.execute(
        select(Service).filter_by(slug="centro-vita-indipendente")
    ).scalar_one()
    assert {o.desk.slug for o in cvi.offerings} == {"viadana", "casalmaggiore"}


def test_health_services_of_the_casalasco_are_delivered_by_asst_cremona(app):
    adi = db.session.execute(select(Service).filter_by(slug="adi-cure-domiciliari")).scalar_one()
    providers = {o.desk.slug: o.provider.slug for o in adi.offerings}
    assert providers["casalmaggiore"] == "asst-cremona"
    assert providers["suzzara"] == "asst-mantova"


def test_loading_twice_changes_nothing(app):
    def counts():
        return [
            db.session.execute(select(func.count()).select_from(model)).scalar()
            for model in (Service, Comune, Desk, Queue)
        ]

    before = counts()
    demo_data.load(app.config["DEMO_DATA_DIR"])
    assert counts() == before == [33, 46, 4, 20]


def test_demo_load_command_reports_what_it_loaded(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0
    assert "33 services, 46 comuni, 4 PUA desks, 20 queues" in result.output


# The slugs a minimal territory knows, for validating single service files.
KNOWN = {
    "area": {"anziani"},
    "category": {"anziani"},
    "life_event": set(),
    "desk": {"suzzara"},
    "agency": set(),
}


def test_a_service_file_with_an_unknown_category_is_refused():
    doc = {
        "slug": "x",
        "area": "anziani",
        "category": "nope",
        "offered_by": ["suzzara"],
        "status": "active",
        "cost": "free",
        "text": {},
    }
    with pytest.raises(demo_data.DemoDataError, match="category"):
        demo_data.validate_service(doc, "x", KNOWN)


def test_a_service_file_missing_english_text_is_refused():
    full = dict.fromkeys(demo_data.REQUIRED_TEXT, "testo")
    doc = {
        "slug": "x",
        "area": "anziani",
        "category": "anziani",
        "offered_by": ["suzzara"],
        "status": "active",
        "cost": "free",
        "text": {"it": full},
    }
    with pytest.raises(demo_data.DemoDataError, match=r"text\.en"):
        demo_data.validate_service(doc, "x", KNOWN)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Cingia de' Botti", "cingia-de-botti"),
        ("San Martino dall'Argine", "san-martino-dall-argine"),
        ("San Benedetto Po", "san-benedetto-po"),
    ],
)
def test_comune_slugs_follow_the_contract(name, slug):
    assert demo_data.slugify(name) == slug
