"""No page scrolls sideways on a 320 px wide screen (WCAG 1.4.10, reflow), in any of the 13
languages: longer words and right-to-left scripts are where a layout breaks first. Axe and the
photographs are for the three languages of test_accessibility; this only measures widths."""

import pytest

from portal.config import defaults
from tests.e2e.browsing import PUBLIC_PAGES, staff_pages
from tests.e2e.conftest import ADMIN, log_in

WIDTH = 320
WIDER = """() => {
  const window = document.documentElement.clientWidth;
  const wide = document.documentElement.scrollWidth;
  if (wide <= window) return null;
  // The innermost element past the edge (1 px skip links, hidden until focused, excepted).
  const past = [...document.querySelectorAll('body *')].filter(e => {
    const box = e.getBoundingClientRect();
    return box.width > 1 && (box.right > window + 0.5 || box.left < -0.5);
  });
  const culprit = past.find(e => !past.some(other => other !== e && e.contains(other)));
  return `${wide} px wide: ${culprit ? culprit.outerHTML.slice(0, 200) : '?'}`;
}"""


@pytest.mark.parametrize("lang", defaults("")["SUPPORTED_LOCALES"])
def test_every_page_fits_a_narrow_phone(browser, live_portal, submitted_reference, lang):
    context = browser.new_context(viewport={"width": WIDTH, "height": 640})
    page = context.new_page()
    log_in(page, live_portal, ADMIN, lang)
    paths = [path.format(lang=lang) for path in PUBLIC_PAGES.values()]
    paths += staff_pages(lang, submitted_reference).values()
    wide = {}
    for path in paths:
        page.goto(live_portal + path)
        found = page.evaluate(WIDER)
        if found:
            wide[path] = found
    context.close()
    assert not wide, "\n".join(f"{path}: {found}" for path, found in wide.items())
