"""A request followed in the browser from the citizen's submission to the individual project:
taken in charge, documents asked (the SLA clock stops), the citizen's answer (it restarts),
re-routed to a colleague's queue, assessed, project defined. Every page is checked with axe and
photographed (test-artifacts/screenshots/walk-*.png); each inbox is looked at again after each
change, so a kept inbox page that missed one would fail here."""

import pytest

from tests.e2e.browsing import check_page, file_request, follow
from tests.e2e.conftest import CITIZEN, log_in

MARCO = "CRVMRC71S12D959K"  # operator of Viadana: generale, anziani, disabilità
CHIARA = "FNTCHR85L55L826N"  # operator of Viadana: minori, inclusione
SERVICE = "assistenza-domiciliare-sad"


@pytest.fixture
def person(browser, live_portal):
    """A browser of their own for each person, logged in."""
    contexts = []

    def open_as(fiscal_number):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
        contexts.append(context)
        page = context.new_page()
        log_in(page, live_portal, fiscal_number)
        return page

    yield open_as
    for context in contexts:
        context.close()


def inbox_row(page, base, reference):
    page.goto(f"{base}/backoffice/")
    return page.locator("tbody tr", has_text=reference)


def act(page, action, **fields):
    """Fill one action's form on the request page and send it."""
    form = page.locator(f"form[action$='/azioni/{action}']")
    for name, value in fields.items():
        field = form.locator(f"[name='{action}-{name}']")
        tag = field.evaluate("e => e.tagName + (e.type ? ':' + e.type : '')")
        if tag.startswith("SELECT"):
            field.select_option(value)
        elif tag == "INPUT:checkbox":
            page.locator(f"label[for='{field.get_attribute('id')}']").click()
        else:
            field.fill(value)
    follow(page, form.locator("button[type=submit]"))


def state_of(page):
    return page.locator("#state-heading + dl dd").first.inner_text()


def test_a_request_from_submission_to_project(person, live_portal, artifacts):
    citizen = person(CITIZEN)
    reference = file_request(citizen, live_portal, SERVICE)
    request_url = f"{live_portal}/backoffice/richieste/{reference}"

    marco = person(MARCO)
    row = inbox_row(marco, live_portal, reference)
    assert "nessuno" in row.inner_text() and "mancano 30 giorni" in row.inner_text()
    check_page(marco, artifacts, "walk-1-inbox-new")
    marco.goto(request_url)
    assert "Instradamento predefinito: lo sportello PUA che serve Viadana" in marco.inner_text(
        "main"
    )
    act(marco, "claim")
    assert "Cervi" in marco.locator("#state-heading + dl").inner_text()
    assert "Cervi" in inbox_row(marco, live_portal, reference).inner_text()

    marco.goto(request_url)
    act(marco, "ask_citizen", note="Serve il verbale di invalidità civile.")
    assert "In attesa del cittadino" in state_of(marco)
    check_page(marco, artifacts, "walk-2-request-waiting")
    assert "termine sospeso" in inbox_row(marco, live_portal, reference).inner_text()
    check_page(marco, artifacts, "walk-3-inbox-clock-stopped")

    citizen.goto(f"{live_portal}/it/area-personale/richieste/{reference}")
    assert "verbale di invalidità civile" in citizen.locator("main").inner_text()
    check_page(citizen, artifacts, "walk-4-citizen-asked")
    citizen.locator("textarea[name=body]").fill("Allego il verbale, arriva per posta la copia.")
    follow(citizen, citizen.locator("form[action$='/messaggi'] button[type=submit]"))
    assert "termine sospeso" not in inbox_row(marco, live_portal, reference).inner_text()

    marco.goto(request_url)
    act(marco, "reroute", queue="viadana-inclusione", note="Serve un progetto di inclusione.")
    assert not inbox_row(marco, live_portal, reference).count()  # out of his queues

    chiara = person(CHIARA)
    row = inbox_row(chiara, live_portal, reference)
    assert "viadana-inclusione" in row.inner_text()
    check_page(chiara, artifacts, "walk-5-inbox-rerouted")
    chiara.goto(request_url)
    assert "Reinstradata da Marco Cervi: Serve un progetto di inclusione." in chiara.inner_text(
        "main"
    )
    act(chiara, "claim")
    act(chiara, "assess", uvm_date="2026-12-03", uvm_team="Assistente sociale e infermiere ASST")
    assert "In valutazione" in state_of(chiara)
    act(chiara, "define_project", case_manager="Chiara Fontana", agreed="y")
    assert "Progetto definito" in state_of(chiara)
    assert "progetto condiviso" in chiara.locator("#state-heading + dl").inner_text()
    check_page(chiara, artifacts, "walk-6-project-defined")

    citizen.goto(f"{live_portal}/it/area-personale/richieste/{reference}")
    check_page(citizen, artifacts, "walk-7-citizen-project")
