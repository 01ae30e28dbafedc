"""Service content in other languages: the per-locale files, their state against the Italian
text, the coverage command and the editors' status page."""

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from portal.catalog import demo_data, translations
from portal.catalog.models import Category, Service, ServiceTranslation
from portal.extensions import db
from tests.backoffice.factory import staff_client
from tests.pages import parse, text_of

DEMO = Path(demo_data.__file__).parent / "demo"
SLUG = "asilo-nido"


@pytest.fixture
def data_dir(tmp_path):
    """A copy of the demo data with one German translation file, as a translator writes it
    (German: a locale of no demo file, which an agency could add)."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("translations"))
    folder = target / "translations" / "de" / "services"
    folder.mkdir(parents=True)
    (folder / f"{SLUG}.yaml").write_text(
        "title: Kinderkrippe (asilo nido)\nsummary: Betreuung für Kinder von 3 Monaten bis 3.\n"
        "audience: |\n  Familien.\nhow_to: |\n  1. Stellen Sie den Antrag.\n",
        encoding="utf-8",
    )
    (target / "translations" / "de" / "territory.yaml").write_text(
        "categories:\n  anziani: {name: Ältere Menschen, description: Hilfe zu Hause.}\n",
        encoding="utf-8",
    )
    return target


def stamp(data_dir, locale="de", slug=SLUG):
    source = demo_data.read_yaml(data_dir / "services" / f"{slug}.yaml")
    path = data_dir / "translations" / locale / "services" / f"{slug}.yaml"
    return translations.stamp(path, demo_data.italian_digest(source["text"]["it"]))


def service(slug=SLUG) -> Service:
    return db.session.scalar(select(Service).filter_by(slug=slug))


def test_an_unstamped_translation_is_refused_and_nothing_loads(app, data_dir):
    with pytest.raises(demo_data.DemoDataError, match="follows"):
        demo_data.load(data_dir)
    assert "de" not in {row.locale for row in service().translations}


def test_a_translation_of_an_unknown_service_is_refused(app, data_dir):
    stamp(data_dir)
    shutil.copy(
        data_dir / "translations" / "de" / "services" / f"{SLUG}.yaml",
        data_dir / "translations" / "de" / "services" / "servizio-inventato.yaml",
    )
    with pytest.raises(demo_data.DemoDataError, match="no service servizio-inventato"):
        demo_data.load(data_dir)


def test_a_translation_missing_an_essential_section_is_refused(app, data_dir):
    path = data_dir / "translations" / "de" / "services" / f"{SLUG}.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    del doc["how_to"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    stamp(data_dir)
    with pytest.raises(demo_data.DemoDataError, match="how_to"):
        demo_data.load(data_dir)


def test_a_stamped_translation_loads_as_partial_and_becomes_outdated_when_italian_changes(
    app, data_dir
):
    assert stamp(data_dir) is True
    assert stamp(data_dir) is False  # already follows today's Italian
    demo_data.load(data_dir)
    text = service().text("de")
    assert text.title == "Kinderkrippe (asilo nido)"
    assert text.translated and "documents" in text.fallback_fields
    assert text.lang_of("title") == "de" and text.lang_of("documents") == "it"
    assert translations.cell(service(), "de").state == translations.PARTIAL
    assert translations.cell(service(), "sv").state == translations.MISSING
    category = db.session.scalar(select(Category).filter_by(slug="anziani"))
    assert category.name_in("de") == "Ältere Menschen"

    source = data_dir / "services" / f"{SLUG}.yaml"
    source.write_text(
        source.read_text(encoding="utf-8").replace(
            "title: Asilo nido", "title: Asilo nido comunale"
        ),
        encoding="utf-8",
    )
    demo_data.load(data_dir)
    assert service().text("it").title.startswith("Asilo nido comunale,")
    assert translations.cell(service(), "de").state == translations.OUTDATED


def test_a_translation_with_every_section_is_complete(app):
    nido = service()
    row = next(r for r in nido.translations if r.locale == "it")
    copy = ServiceTranslation(locale="de")
    for name in (*translations.COUNTED_FIELDS, "source_digest"):
        setattr(copy, name, getattr(row, name))
    nido.translations.append(copy)
    db.session.flush()
    cell = translations.cell(nido, "de")
    assert cell.state == translations.COMPLETE and cell.filled == cell.total


def test_the_coverage_command_prints_every_supported_locale(runner, app):
    result = runner.invoke(args=["translations", "coverage"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["locale", "UI", "strings"]
    for code in app.config["SUPPORTED_LOCALES"]:
        assert any(line.startswith(code + " ") for line in lines), code
    english = next(line for line in lines if line.startswith("en "))
    assert "100.0%" in english  # the English catalog and every English card are complete


def test_the_status_page_is_for_editors_and_administrators_only(app, federation, client):
    anonymous = client.get("/it/redazione/traduzioni")
    assert anonymous.status_code == 302 and "/accedi" in anonymous.location
    for who, status in (("mario", 404), ("marco", 404), ("giovanni", 200), ("elena", 200)):
        response = staff_client(app, federation, who).get("/it/redazione/traduzioni")
        assert response.status_code == status, who


def test_the_status_page_shows_each_service_in_each_locale(app, federation):
    response = staff_client(app, federation, "giovanni").get("/en/redazione/traduzioni")
    tree = parse(response)
    headers = [
        text_of(th)
        for th in tree.findall(".//table[@class='table table-sm translation-matrix']/thead//th")
    ]
    assert headers[0] == "Service" and "en" in headers and "it" not in headers
    rows = tree.findall(".//table[@class='table table-sm translation-matrix']/tbody/tr")
    assert len(rows) == db.session.query(Service).filter(Service.published).count()
    first = [text_of(td) for td in rows[0].findall("td")]
    assert first[headers.index("en") - 1].startswith("complete")
