from sqlalchemy import select

from portal.catalog.models import Service, ServiceTranslation
from portal.extensions import db
from portal.search import indexing


def slugs(client, query, lang="it"):
    data = client.get("/api/v1/services", query_string={"q": query, "lang": lang}).get_json()
    return [r["slug"] for r in data["results"]]


def italian_text(slug):
    return db.session.execute(
        select(ServiceTranslation).where(
            ServiceTranslation.locale == "it", ServiceTranslation.service.has(slug=slug)
        )
    ).scalar_one()


def test_editing_a_service_updates_the_index_after_commit(client):
    row = italian_text("informagiovani")
    row.keywords += ", ornitorinco"
    assert "informagiovani" not in slugs(client, "ornitorinco")
    db.session.commit()
    assert slugs(client, "ornitorinco") == ["informagiovani"]
    # The copy from before the edit is gone, not found a second time.
    assert slugs(client, "informagiovani").count("informagiovani") == 1


def test_withdrawing_a_service_removes_it_from_results(client):
    # Searched once before, so that the withdrawal must reach a searcher already open.
    assert "contributo-affitto" in slugs(client, "affitto")
    service = db.session.execute(select(Service).filter_by(slug="contributo-affitto")).scalar_one()
    service.published = False
    db.session.commit()
    assert "contributo-affitto" not in slugs(client, "affitto")


def test_a_rolled_back_change_never_reaches_the_index(app):
    row = italian_text("informagiovani")
    row.keywords += ", quokka"
    db.session.flush()
    db.session.rollback()
    with app.extensions["search_index"].searcher() as searcher:
        assert searcher.doc_frequency("words_it", "quokka") == 0


def test_corrupt_index_is_rebuilt_at_start_up(app):
    index = app.extensions["search_index"]
    index.close()
    for segment in index.directory.glob("*.seg"):
        segment.write_bytes(b"garbage")
    assert not index.is_usable()
    assert indexing.ensure_usable(app) == "rebuilt"
    assert index.doc_count() == 33


def test_reindex_command(runner):
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and "Indexed 33 services" in result.output


def test_readyz_reports_the_index(client, app):
    data = client.get("/readyz").get_json()
    assert data["checks"]["search_index"] == "ok" and data["checks"]["search_documents"] == 33
