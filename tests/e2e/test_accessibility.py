"""Every page type passes axe-core's WCAG 2.0/2.1 A and AA rules, in Italian, English and Arabic,
on a desktop and a phone viewport; each is photographed into test-artifacts/screenshots."""

import re

import pytest

from tests.e2e.browsing import (
    PUBLIC_PAGES,
    SERVICE,
    check_page,
    choose,
    fill_step,
    follow,
    staff_pages,
)
from tests.e2e.conftest import ADMIN, CITIZEN, VIEWPORTS, log_in

LOCALES = ("it", "en", "ar")


# WCAG's contrast ratio between an element's text colour and its list's background colour.
CONTRAST = """e => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = rgb(c).map(v => v / 255)
      .map(v => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const fore = lum(getComputedStyle(e).color);
  const back = lum(getComputedStyle(e.closest('ul')).backgroundColor);
  return (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
}"""


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture
def browse(browser, live_portal, viewport):
    """A fresh browser context at the viewport; closed after the test."""
    contexts = []

    def open_page(locale="it-IT"):
        context = browser.new_context(viewport=VIEWPORTS[viewport], locale=locale)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page(browse, live_portal, artifacts, viewport, lang, name):
    page = browse()
    page.goto(live_portal + PUBLIC_PAGES[name].format(lang=lang))
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    check_page(page, artifacts, f"{lang}-{viewport}-{name}")


@pytest.mark.parametrize("lang", LOCALES)
def test_the_language_menu_opens_readable_and_inside_the_window(
    browse, live_portal, artifacts, viewport, lang
):
    page = browse()
    page.goto(f"{live_portal}/{lang}/servizi/")
    page.locator(".language-menu summary").click()
    links = page.locator(".language-switcher a")
    assert links.count() == 12  # the 13 languages but the one in use
    window = page.viewport_size["width"]
    for link in links.all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= window, link.inner_text()
        # axe leaves the contrast of an overlapping list undecided: measured here.
        assert link.evaluate(CONTRAST) >= 4.5, link.inner_text()
    check_page(page, artifacts, f"{lang}-{viewport}-language-menu")


def test_an_unsupported_language_shows_italian_with_a_notice(
    browse, live_portal, artifacts, viewport
):
    page = browse(locale="de-DE")
    response = page.goto(live_portal + "/de/servizi/")
    assert response.status < 500
    assert page.locator("html").get_attribute("lang") == "it"
    check_page(page, artifacts, f"de-{viewport}-unsupported-language")


@pytest.mark.parametrize("lang", LOCALES)
def test_request_from_first_step_to_receipt(browse, live_portal, artifacts, viewport, lang):
    """The citizen's whole path: form start, every step, summary, receipt, personal area."""
    page = browse()
    log_in(page, live_portal, CITIZEN, lang)
    page.goto(f"{live_portal}/{lang}/servizi/{SERVICE}/richiesta")
    check_page(page, artifacts, f"{lang}-{viewport}-request-start")
    follow(page, page.locator("main form button[type=submit]"))
    for number in range(1, 12):
        if page.url.endswith("/riepilogo"):
            break
        check_page(page, artifacts, f"{lang}-{viewport}-request-step-{number}")
        fill_step(page)
    else:
        pytest.fail("the request never reached its summary")
    check_page(page, artifacts, f"{lang}-{viewport}-request-summary")
    choose(page, page.locator("input[name=consent]"))
    follow(page, page.locator("main form button[type=submit]").last)
    assert re.search(r"/richieste/[^/]+/inviata$", page.url), page.url
    check_page(page, artifacts, f"{lang}-{viewport}-request-receipt")
    request_url = page.url.removesuffix("/inviata")
    page.goto(f"{live_portal}/{lang}/area-personale/")
    check_page(page, artifacts, f"{lang}-{viewport}-personal-area")
    page.goto(request_url)
    check_page(page, artifacts, f"{lang}-{viewport}-personal-request")
    page.goto(f"{live_portal}/{lang}/profilo")
    check_page(page, artifacts, f"{lang}-{viewport}-profile")


@pytest.mark.parametrize("lang", LOCALES)
def test_staff_pages(browse, live_portal, artifacts, viewport, lang, submitted_reference):
    page = browse()
    log_in(page, live_portal, ADMIN, lang)  # the back office speaks the session's language
    for name, path in staff_pages(lang, submitted_reference).items():
        page.goto(live_portal + path)
        assert page.locator("html").get_attribute("lang") == lang
        check_page(page, artifacts, f"{lang}-{viewport}-{name}")
