"""The inbox keeps its rendered page until a request of its queues changes: whatever a
colleague does, the next look at the inbox shows it."""

import pytest
from sqlalchemy import select, text, update

from portal.catalog.models import Queue
from portal.extensions import db
from portal.requests.models import Request
from tests.backoffice.factory import make_request, staff_client
from tests.backoffice.test_workflow import act
from tests.pages import find_all, parse, text_of


def version(slug: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Queue.inbox_version).filter_by(slug=slug))


def rows(client, url="/backoffice/"):
    return {
        text_of(row.find("th")): text_of(row)
        for row in find_all(parse(client.get(url)), ".//tbody/tr")
    }


def test_every_change_to_a_request_bumps_its_queues_version(app):
    before = version("viadana-anziani")
    req = make_request()  # inserted, then its event: one commit
    inserted = version("viadana-anziani")
    assert inserted > before
    db.session.execute(update(Request).where(Request.id == req.id).values(state="in_charge"))
    db.session.commit()
    assert version("viadana-anziani") > inserted
    # Moving it to another queue changes both.
    old, new = version("viadana-anziani"), version("viadana-inclusione")
    target = db.session.scalar(select(Queue.id).filter_by(slug="viadana-inclusione"))
    db.session.execute(update(Request).where(Request.id == req.id).values(queue_id=target))
    db.session.commit()
    assert version("viadana-anziani") > old and version("viadana-inclusione") > new
    # Even a write that bypasses the application.
    unchanged = version("viadana-minori")
    current = version("viadana-inclusione")
    db.session.execute(text("UPDATE request SET lang = 'en' WHERE id = :id"), {"id": req.id})
    db.session.commit()
    assert version("viadana-inclusione") > current and version("viadana-minori") == unchanged


def test_a_rolled_back_change_leaves_the_version_alone(app):
    req = make_request()
    before = version("viadana-anziani")
    db.session.execute(update(Request).where(Request.id == req.id).values(state="in_charge"))
    db.session.rollback()
    assert version("viadana-anziani") == before


def test_the_inbox_shows_a_colleagues_claim_and_a_new_request_at_once(app, federation):
    first = make_request()
    sara = staff_client(app, federation, "sara")  # supervisor of Viadana
    marco = staff_client(app, federation, "marco")
    seen = rows(sara)
    assert "Cervi" not in seen[first.reference]
    assert rows(sara) == seen  # asked again: the kept page, identical
    assert act(marco, first, "claim").status_code == 303
    assert "Cervi" in rows(sara)[first.reference]
    second = make_request(comune="viadana")
    assert second.reference in rows(sara)


def test_a_reroute_leaves_the_old_queues_page_at_once(app, federation):
    req = make_request()
    marco = staff_client(app, federation, "marco")
    assert req.reference in rows(marco, "/backoffice/?coda=viadana-anziani")
    act(marco, req, "reroute", queue="viadana-inclusione", note="Situazione abitativa")
    assert req.reference not in rows(marco, "/backoffice/?coda=viadana-anziani")
    chiara = staff_client(app, federation, "chiara")
    assert req.reference in rows(chiara)


def test_each_colleague_and_language_has_its_own_page(app, federation):
    req = make_request()
    marco = staff_client(app, federation, "marco")
    chiara = staff_client(app, federation, "chiara")  # other queues of the same desk
    assert req.reference in rows(marco)
    assert req.reference not in rows(chiara)
    italian = text_of(parse(marco.get("/backoffice/")).find(".//table"))
    marco.get("/en/")  # the back office follows the language last chosen
    english = text_of(parse(marco.get("/backoffice/")).find(".//table"))
    assert "Richieste" in italian and "Requests" in english


def test_postgresql_bumps_when_the_transaction_commits(app):
    """On PostgreSQL the bump waits for the commit (no queue row locked mid-transaction); the
    test's own transaction never commits, so the deferral is switched on and off by hand."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time and bumps at once")
    req = make_request()
    before = version("viadana-anziani")
    db.session.execute(text("SET CONSTRAINTS request_inbox_version DEFERRED"))
    db.session.execute(update(Request).where(Request.id == req.id).values(state="in_charge"))
    assert version("viadana-anziani") == before  # not yet: at commit
    db.session.execute(text("SET CONSTRAINTS request_inbox_version IMMEDIATE"))  # "commit"
    assert version("viadana-anziani") > before


def test_a_page_with_a_message_is_shown_once_and_never_kept(app, federation):
    marco = staff_client(app, federation, "marco")
    marco.get("/backoffice/")  # kept
    response = marco.get("/backoffice/?dopo=nonsense", follow_redirects=True)
    assert "non esiste più" in text_of(parse(response).find(".//main"))
    again = text_of(parse(marco.get("/backoffice/")).find(".//main"))
    assert "non esiste più" not in again


def test_two_sessions_of_one_person_never_share_a_page(app, federation):
    """The page carries the session's CSRF token (the logout form): each session its own."""
    first = staff_client(app, federation, "marco")
    second = staff_client(app, federation, "marco")

    def logout_form(client):
        client.get("/backoffice/")
        tree = parse(client.get("/backoffice/"))  # the kept page, second time
        form = next(f for f in find_all(tree, ".//form") if "header-logout" in f.get("class"))
        token = next(i.get("value") for i in form.iter("input") if i.get("name") == "csrf_token")
        return form.get("action"), token

    forms = [logout_form(first), logout_form(second)]
    for client, (action, token) in zip((first, second), forms, strict=True):
        assert client.post(action, data={"csrf_token": token}).status_code == 303
        assert client.get("/backoffice/").status_code == 302  # logged out: sent to log in
